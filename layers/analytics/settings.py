"""Tunable defaults of the derived layers (coverage, hotspots, trends, siting).

A pydantic-settings class with the `WANGGE_ANALYTICS_` prefix, built once by
`geo_api.settings.Settings` and handed down; never instantiated at import time here.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_KEY_PLACE_KINDS = ("service_station", "police", "school", "clinic", "elderly_care")


class AnalyticsSettings(BaseSettings):
    """Defaults for coverage targets, Gi* hotspots, emerging trends and camera siting."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_ANALYTICS_", extra="ignore")

    h3_resolution: int = Field(default=9, ge=5, le=12, description="H3 resolution of hotspots.")
    permutations: int = Field(
        default=999, ge=0, le=99_999, description="Conditional permutations for Gi* pseudo p."
    )
    seed: int = Field(default=20170, description="Random seed of the permutation inference.")
    trend_alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="Significance of the Mann-Kendall trend."
    )
    key_place_kinds: tuple[str, ...] = Field(
        default=DEFAULT_KEY_PLACE_KINDS,
        description="Service point kinds that are key public places (national target 100 %).",
    )
    courtyard_covered_share: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Share of a courtyard's area a camera must see for the area to count covered.",
    )
    intersection_snap_m: float = Field(
        default=0.1, gt=0, le=5, description="Vertices of level-1 cells closer than this coincide."
    )
    target_online_share: float = Field(default=0.98, description="National target: cameras online.")
    target_key_place_share: float = Field(
        default=1.0, description="National target: key public areas covered."
    )


class DaskSettings(BaseSettings):
    """Where the batch analytics run: `WANGGE_DASK_SCHEDULER`.

    Unset: in-process, as the server does.  `local:N`: a `LocalCluster` of N
    worker processes on this machine.  Anything else: the address of a running
    scheduler (`tcp://10.0.0.5:8786`), so the same command uses ten machines.
    """

    model_config = SettingsConfigDict(env_prefix="WANGGE_DASK_", extra="ignore")

    scheduler: str | None = Field(
        default=None,
        description="unset (in-process), local:N (a LocalCluster), or a scheduler address.",
    )
