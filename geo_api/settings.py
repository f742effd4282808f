"""The service's settings, read once from `WANGGE_*` variables and handed down.

Each part owns a small settings class (`layers.store.settings.DatabaseSettings`, …);
this one composes them and adds what only the HTTP/CLI faces need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from geo_api.auth_settings import AuthSettings
from grids.config import CaseSettings
from grids.services.settings import ServicesSettings
from layers.analytics.settings import AnalyticsSettings, DaskSettings
from layers.core.constants import GRID_NOISE_M, MIN_CELL_AREA_M2, UTM48N
from layers.core.limit_settings import LimitSettings
from layers.store.settings import DatabaseSettings
from maps.settings import MapsSettings


class Settings(BaseSettings):
    """Everything configurable, with the `WANGGE_` prefix (e.g. `WANGGE_PORT=8000`)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address `wangge serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `wangge serve` binds.")
    workers: int = Field(default=1, ge=1, le=64, description="Server worker processes.")
    shutdown_grace_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="After SIGTERM, how long `wangge serve` lets running requests finish.",
    )
    public_url: str | None = Field(
        default=None, description="Base URL clients use (links, printed URLs); default host:port."
    )
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (comma-separated, or `*`) whose web maps may read /ogc; none = off.",
    )
    tile_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory per server process for rendered vector tiles of the public layers "
        "(0 = no cache); a tile is reused only while its layer is unchanged.",
    )
    tile_max_bytes: int = Field(
        default=500 * 1024,
        ge=4096,
        description="Largest vector tile: bigger ones are simplified more, then thinned.",
    )
    metric_srid: int = Field(default=UTM48N, description="Metric CRS for distances and areas.")
    planning_tolerance_m: float = Field(
        default=GRID_NOISE_M,
        ge=0,
        le=10,
        description="Grid validation: widest piece treated as noise.",
    )
    planning_min_cell_area_m2: float = Field(
        default=MIN_CELL_AREA_M2,
        ge=0,
        description="Grid validation: smaller cells are `too_small`.",
    )
    media_dir: Path | None = Field(
        default=None,
        description="Where case photos are stored (content-addressed); default $WANGGE_HOME/media.",
    )
    base_collection_review: bool = Field(
        default=False,
        description="Field changes of base records wait for the community's review to apply.",
    )
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    dask: DaskSettings = Field(default_factory=DaskSettings)
    maps: MapsSettings = Field(default_factory=MapsSettings)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)

    @property
    def media_root(self) -> Path:
        """The directory of case photos: `media_dir`, else `media` in the service's home."""
        return self.media_dir or self.db.home / "media"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """`a,b` from the environment; each an origin as browsers send it (no path, no slash)."""
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        for origin in value if isinstance(value, list) else []:
            parts = urlsplit(origin)
            if origin != "*" and (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                or parts.query
                or parts.fragment
            ):
                raise ValueError(f"{origin!r} is not an origin like https://maps.example:8080")
        return value

    limits: LimitSettings = Field(default_factory=LimitSettings)

    def base_url(self) -> str:
        """Where a person or client reaches the service."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::"} else self.host
        return f"http://{host}:{self.port}"
