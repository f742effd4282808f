"""How map pages are drawn: where their assets live and which basemap, if any, lies under them.

A pydantic-settings class with the `WANGGE_MAPS_` prefix, built once by
`geo_api.settings.Settings`.  By default there is no tile layer at all: the base
map is the district's own outlines, so pages work on an intranet without internet.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MapsSettings(BaseSettings):
    """Basemap tiles (optional, e.g. an intranet tile server) and their CRS."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_MAPS_", extra="ignore")

    tiles_url: str | None = Field(
        default=None,
        description="XYZ tile URL template under the outlines; unset = outlines only (offline).",
    )
    tiles_attribution: str = Field(default="", description="Attribution shown for the tiles.")
    tiles_crs: str = Field(
        default="wgs84",
        description="CRS the tiles are drawn in: wgs84, or gcj02 for Amap/Tencent basemaps "
        "(geometries are then shifted to GCJ-02 for display).",
    )
