"""Settings of sign-in and authentication: session lifetime, failed-authentication throttle.

A pydantic-settings class with the `WANGGE_AUTH_` prefix, composed into
`geo_api.settings.Settings`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    """How long a browser stays signed in, and how many wrong keys a client may send."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_AUTH_", extra="ignore")

    session_hours: float = Field(
        default=12.0, gt=0, le=720, description="A sign-in session ends this long after sign-in."
    )
    session_idle_minutes: float = Field(
        default=120.0, ge=0, description="…or after this long unused (0 = no idle limit)."
    )
    failures_per_address: int = Field(
        default=10, ge=1, description="Failed authentications a client address may make per window."
    )
    failures_per_prefix: int = Field(
        default=10, ge=1, description="Failed authentications per key prefix per window."
    )
    failure_window_s: float = Field(
        default=60.0, gt=0, le=86_400, description="The throttle's sliding window, in seconds."
    )
