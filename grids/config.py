"""Settings of the case side (locate tolerance, SLA sweep, Open311 channel).

A pydantic-settings class with the `WANGGE_` prefix, composed into
`geo_api.settings.Settings`; never instantiated at import time here.
"""

from __future__ import annotations

import functools
import os

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
    position_stale_minutes: float | None = Field(
        default=None,
        gt=0,
        description="Nearest-worker search ignores workers whose last position is older than "
        "this (minutes); unset = every known position counts (the demo's are from its start).",
    )
    grid_listen: bool = Field(
        default=True, description="LISTEN for published grid revisions and reload the index."
    )
    geocode_cache_size: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="Finished GET /geocode answers kept per server process (0: none).",
    )


def resolve_tolerance(tolerance_m: float | None = None) -> float:
    """`tolerance_m`, or the configured one (``WANGGE_LOCATE_TOLERANCE_M``) when not given.

    The one source of the nearest-cell tolerance: the service passes its settings'
    value down; callers without settings (scripts, the publish's re-location when
    not told, tests) read the same setting here.
    """
    if tolerance_m is not None:
        return float(tolerance_m)
    return _configured_tolerance(os.environ.get(_TOLERANCE_ENV))


_TOLERANCE_ENV = "WANGGE_LOCATE_TOLERANCE_M"


@functools.lru_cache(maxsize=8)
def _configured_tolerance(raw: str | None) -> float:
    """The setting for one value of its variable (read once: settings take milliseconds)."""
    return CaseSettings().locate_tolerance_m
