"""A compact polygon layer: many polygons in little HTML (the full-district workload map).

GeoJSON spends ~250 bytes on a small cell; here coordinates are integers (1e-5°,
about a metre) delta-encoded ring by ring, and properties are columns, so 17,000
level-3 cells fit in about a megabyte.  `static/wangge/wangge.js` decodes them
into Leaflet polygons (canvas-rendered) with a choropleth style and tooltips that
set text with `textContent` (no HTML from data ever reaches `innerHTML`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

SCALE = 100_000


def script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element (no `</script>` or `<!--` breakout)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _encode_ring(coords: np.ndarray, origin: np.ndarray) -> list[int]:
    q = np.round(coords[:-1] * SCALE).astype(np.int64)  # drop the closing repeat
    deltas = np.diff(np.vstack([origin, q]), axis=0)
    return deltas.ravel().tolist()


def encode(geoms: Sequence[shapely.Geometry]) -> tuple[list[int], list[list[list[list[int]]]]]:
    """(origin, features): each feature a list of polygons, each a list of encoded rings."""
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return [0, 0], []
    bounds = shapely.total_bounds(arr)
    origin = np.round(bounds[:2] * SCALE).astype(np.int64)
    features = []
    for geom in arr:
        parts = shapely.get_parts(geom)
        polys = []
        for poly in parts:
            rings = [poly.exterior, *poly.interiors]
            polys.append([_encode_ring(np.asarray(r.coords), origin) for r in rings])
        features.append(polys)
    return origin.tolist(), features


def _clean(values: Sequence[Any]) -> list[Any]:
    out = []
    for v in values:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out.append(v)
    return out


class CompactPolygons(Layer):
    """An overlay of many polygons, styled by one numeric field, with text-only tooltips."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = wangge.compactLayer({{ this.spec }});
        {% endmacro %}"""
    )

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        name: str,
        style: dict[str, Any],
        tooltip: Sequence[tuple[str, str]] = (),
        show: bool = True,
        canvas: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        origin, features = encode(list(gdf.geometry))
        fields = [f for f, _ in tooltip]
        wanted = sorted(set(fields) | ({style["field"]} if style.get("field") else set()))
        spec = {
            "name": name,
            "scale": SCALE,
            "origin": origin,
            "features": features,
            "props": {col: _clean(gdf[col].tolist()) for col in wanted},
            "style": style,
            "tooltip": {"fields": fields, "aliases": [a for _, a in tooltip]} if tooltip else None,
            "canvas": canvas,
        }
        self.spec = script_json(spec)


class CompactPoints(JSCSSMixin, Layer):
    """Many circle markers from one JSON array, clustered or not, popups built as text nodes."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = wangge.pointLayer({{ this.spec }});
        {% endmacro %}"""
    )
    # folium's JSCSSMixin declares both as instance variables; a ClassVar here would clash
    default_js: list[tuple[str, str]] = [("markerclusterjs", "")]  # noqa: RUF012
    default_css: list[tuple[str, str]] = [  # noqa: RUF012
        ("markerclustercss", ""),
        ("markerclusterdefaultcss", ""),
    ]

    def __init__(
        self,
        rows: Sequence[Sequence[Any]],
        *,
        name: str,
        fields: Sequence[tuple[str, str]],
        styles: Sequence[dict[str, Any]],
        cluster: bool = True,
        popup: bool = True,
        title: int | None = None,
        tooltip: int | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        spec: dict[str, Any] = {
            "name": name,
            "cluster": cluster,
            "rows": [_clean(list(r)) for r in rows],
            "fields": [f for f, _ in fields],
            "aliases": [a for _, a in fields],
            "styles": list(styles),
            "popup": popup,
        }
        if title is not None:
            spec["title"] = title
        if tooltip is not None:
            spec["tooltip"] = tooltip
        self.spec = script_json(spec)


class CountPoints(Layer):
    """One neutral circle per area with a number in it (e.g. gaps per community), text tooltips.

    An aggregate reads at a glance where thousands of single markers are a carpet;
    the circle grows with the count (square root, so the area is proportional).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = wangge.countLayer({{ this.spec }});
        {% endmacro %}"""
    )

    def __init__(
        self, rows: Sequence[tuple[float, float, int, str]], *, name: str, show: bool = True
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        counts = [int(r[2]) for r in rows]
        spec = {
            "name": name,
            "rows": [
                [round(float(a), 6), round(float(b), 6), int(n), str(t)] for a, b, n, t in rows
            ],
            "max": max(counts, default=0),
        }
        self.spec = script_json(spec)
