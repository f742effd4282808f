"""Settings of the case side (locate tolerance, SLA sweep, Open311 channel).

A pydantic-settings class with the `WANGGE_` prefix, composed into
`geo_api.settings.Settings`; never instantiated at import time here.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CaseSettings(BaseSettings):
    """How cases are located, timed and taken in."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    locate_tolerance_m: float = Field(
        default=30.0, ge=0, le=1000, description="Nearest-cell tolerance when no cell covers."
    )
    sla_sweep_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Period of the SLA sweep inside the server; 0 = off (`wangge serve` sets 60).",
    )
    open311_channel: str = Field(
        default="resident_app", description="Intake channel of Open311 POST requests."
    )
    open311_public_precision_m: float = Field(
        default=50.0,
        ge=10,
        le=1000,
        description="Open311 shows cases the caller may not see in full at points snapped "
        "to a grid of this many metres.",
    )
    grid_listen: bool = Field(
        default=True, description="LISTEN for published grid revisions and reload the index."
    )
