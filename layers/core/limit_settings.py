"""Bounds on the work one request may ask for, and on the jobs that run long work.

A pydantic-settings class with the `WANGGE_LIMIT_` prefix, built once by
`geo_api.settings.Settings` and handed down to the functions that check them;
never instantiated at import time here.  A request beyond a bound is refused
before any work starts (422 ``limit_exceeded``, `layers.core.limits.check_limit`).
The defaults keep a request under ~10 s of CPU on the demo district (108 km²).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LimitSettings(BaseSettings):
    """The largest analyses, suggestions, batches and job counts the service takes on."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_LIMIT_", extra="ignore")

    h3_resolution: int = Field(
        default=10,
        ge=5,
        le=15,
        description="Finest H3 resolution of hotspots and trends (10 ≈ 7,000 cells in the "
        "district; 11 ≈ 50,000 takes ~6 s just to build the neighbour graph).",
    )
    permutations: int = Field(
        default=9_999, ge=0, description="Most Gi* permutations (smallest pseudo p = 1/10,000)."
    )
    cell_permutations: int = Field(
        default=20_000_000,
        ge=1,
        description="Most H3 cells × permutations of one hotspot analysis (~5 s at 7,000 cells).",
    )
    cell_slices: int = Field(
        default=500_000,
        ge=1,
        description="Most H3 cells × time slices of one emerging-trend analysis.",
    )
    siting_views: int = Field(
        default=300_000, ge=1, description="Most candidate views (sites × azimuths) of a siting."
    )
    suggest_cells: int = Field(
        default=5_000, ge=1, description="Most cells one balanced suggestion may draw."
    )
    suggest_work: int = Field(
        default=1_000_000,
        ge=1,
        description="Most work of one suggestion: Σ over parents of level-3 cells × new cells.",
    )
    suggest_sync_work: int = Field(
        default=5_000,
        ge=0,
        description="Suggestions up to this much work answer at once; larger ones run as a job.",
    )
    locate_batch_points: int = Field(
        default=200_000, ge=1, description="Most points of one `POST /locate`."
    )
    job_workers: int = Field(
        default=1, ge=1, le=16, description="Jobs run at once by one server process."
    )
    jobs_per_owner: int = Field(
        default=4, ge=1, description="Queued and running jobs one key may have (429 beyond)."
    )
    job_seconds: float = Field(
        default=3_600.0, gt=0, description="A job still running after this long fails (timeout)."
    )
