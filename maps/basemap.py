"""The offline base map: the district's own courtyards and buildings from the service's tiles.

With no tile URL configured (`WANGGE_MAPS_TILES_URL`, the intranet default) a map
page used to be the street and community outlines on grey: at street zoom a
resident could not find their street.  This layer draws the district's own
courtyards and building footprints from the service's vector tiles (OGC API –
Tiles, `/ogc/collections/{id}/tiles/WebMercatorQuad/…`) into canvas tiles, in
the browser, with `static/wangge/basemap.js`; the outlines stay above it at
every zoom.  The tiles are public collections without personal data and are
cached by the browser (ETag, Cache-Control).  There is no road layer in the base
data; courtyards and buildings between them show the street pattern.
"""

from __future__ import annotations

from typing import Any

from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from maps.compact import script_json

BASE_NAME = "底图 base map (院落 courtyards, 建筑 buildings)"
TILE_URL = "/ogc/collections/{c}/tiles/WebMercatorQuad/{z}/{y}/{x}"
"""The service's own vector tiles (z/row/col as OGC API – Tiles orders them)."""
STREET_ZOOM = 15
"""Buildings from here (a building is a few pixels wide); courtyards from one zoom lower."""
BASE_LAYERS: tuple[dict[str, Any], ...] = (
    {
        "id": "courtyards",
        "minzoom": STREET_ZOOM - 1,
        "fill": "#e6e2d3",
        "stroke": "#c9c2a8",
        "weight": 1,
    },
    {
        "id": "buildings",
        "minzoom": STREET_ZOOM,
        "fill": "#d3cfc7",
        "stroke": "#a8a296",
        "weight": 0.6,
    },
)


def service_root(static_url: str) -> str:
    """Where the service's API is, from where its assets are: `http://h/static` → `http://h`.

    A page built to a file by `wangge maps build --static-url http://host/static` then
    still draws its base map from that service; any other asset root means the page is
    served by the service itself, whose paths are absolute (`/ogc/…`).
    """
    base = static_url.rstrip("/")
    return base.removesuffix("/static") if base.endswith("/static") else ""


class OfflineBase(JSCSSMixin, Layer):
    """A canvas tile layer under every overlay, drawn from the service's vector tiles."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = wangge.baseLayer({{ this.spec }});
        {% endmacro %}"""
    )
    default_js: list[tuple[str, str]] = [("wangge_basemap_js", "")]  # noqa: RUF012

    def __init__(self, root_path: str = "") -> None:
        super().__init__(name=BASE_NAME, overlay=False, control=False, show=True)
        spec = {
            "name": BASE_NAME,
            "url": root_path.rstrip("/") + TILE_URL,
            "minZoom": min(int(layer["minzoom"]) for layer in BASE_LAYERS),
            "layers": list(BASE_LAYERS),
        }
        self.spec = script_json(spec)
