"""The hotspot map (staff): Gi* classes on H3, trends and a layer per period, clustered cases.

Incident points go to the page as a bare coordinate array for Leaflet.markercluster
(FastMarkerCluster), no per-case text, so 30,000 cases stay well under 5 MB.
"""

from __future__ import annotations

import logging
from typing import Any

import folium
import geopandas as gpd
from folium.plugins import FastMarkerCluster

from layers.analytics.ehsa import CATEGORIES, NO_PATTERN
from layers.analytics.spatial_stats import BIN_CLASSES
from layers.core.constants import WGS84
from layers.core.map_types import HotspotLayers
from maps import escape
from maps.base import (
    PageOptions,
    Panel,
    feature_layer,
    for_display,
    legend_html,
    new_map,
    render,
)

logger = logging.getLogger(__name__)

CLASS_COLORS = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "not_significant": "#f7f7f7",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}
CLASS_LABELS = {
    "hot_99": "热点 Hot spot 99 %",
    "hot_95": "热点 Hot spot 95 %",
    "hot_90": "热点 Hot spot 90 %",
    "not_significant": "不显著 Not significant",
    "cold_90": "冷点 Cold spot 90 %",
    "cold_95": "冷点 Cold spot 95 %",
    "cold_99": "冷点 Cold spot 99 %",
}
_HOT = ("#b2182b", "#d6604d", "#e34a33", "#7f0000", "#fc9272", "#fdbb84", "#8c6bb1", "#636363")
_COLD = ("#2166ac", "#4393c3", "#0571b0", "#053061", "#92c5de", "#9ecae1", "#8c96c6", "#969696")
TREND_COLORS = {NO_PATTERN: "#f7f7f7"} | dict(zip(CATEGORIES[1:9], _HOT, strict=True))
TREND_COLORS |= dict(zip(CATEGORIES[9:], _COLD, strict=True))

CLUSTER_CALLBACK = """
function (row) {
    return L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 3, weight: 0,
        fillColor: '#444444', fillOpacity: 0.8});
}
"""


NO_PATTERN_NOTE = "本期无模式 no pattern in this period"
"""Said on the page where a layer has nothing to show, so an empty map is not taken for a bug."""


def _cells(gdf: gpd.GeoDataFrame, options: PageOptions) -> gpd.GeoDataFrame:
    return for_display(gdf, options)


def _cell_layer(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    name: str,
    fields: list[str],
    aliases: list[str],
    colors: dict[str, str],
    color_field: str,
    *,
    show: bool,
) -> bool:
    """H3 cells coloured by `color_field` (an empty frame gives an empty, labelled layer)."""
    return feature_layer(
        m,
        gdf if gdf.empty else gdf[[*dict.fromkeys([*fields, color_field]), "geometry"]],
        name=name,
        fields=fields,
        aliases=aliases,
        style_function=lambda f: {
            "color": "#999999",
            "weight": 0.3,
            "fillColor": colors[f["properties"][color_field]],
            "fillOpacity": 0.7,
        },
        show=show,
        empty_note=NO_PATTERN_NOTE,
    )


NEUTRAL_CLUSTERS = "wangge.clusterIcon"
"""Count circles in no legend colour (the plugin's orange clusters read as hot spots)."""
GI_LAYER = "Gi* 热点 hot/cold spots (FDR)"
TRENDS_LAYER = "时空趋势 emerging trends"


def _gi_layer(m: folium.Map, layers: HotspotLayers, options: PageOptions) -> list[str]:
    gdf = _cells(layers.hotspots, options)
    if not gdf.empty:
        gdf = gdf[["cell", "count", "z", "p_fdr", "class", "geometry"]]
        gdf["p_fdr"] = gdf["p_fdr"].round(4)
    _cell_layer(
        m,
        gdf,
        GI_LAYER,
        ["cell", "count", "z", "p_fdr", "class"],
        ["H3", "cases", "Gi* z", "p (FDR)", "class"],
        CLASS_COLORS,
        "class",
        show=True,
    )
    if gdf.empty or (gdf["class"] == "not_significant").all():
        return ["Gi*: 无显著热点或冷点 no significant hot or cold spot"]
    return []


def _trend_layers(m: folium.Map, layers: HotspotLayers, options: PageOptions) -> list[str]:
    if layers.trends is None:
        if layers.trends_missing is None:
            return []
        folium.FeatureGroup(
            name=f"时空趋势 emerging trends — {NO_PATTERN_NOTE}", show=False
        ).add_to(m)
        return [f"时空趋势 emerging trends: {layers.trends_missing}"]
    gdf = _cells(layers.trends, options)
    shown = gdf[gdf["category"] != NO_PATTERN]
    _cell_layer(
        m,
        shown,
        TRENDS_LAYER,
        ["cell", "category", "trend_z", "trend_p"],
        ["H3", "trend", "MK z", "MK p"],
        TREND_COLORS,
        "category",
        show=False,
    )
    notes = [] if len(shown) else ["时空趋势 emerging trends: 无趋势 no cell with a trend pattern"]
    if "bins" not in gdf.columns:
        return notes
    for t, start in enumerate(layers.slices):
        bins = gdf["bins"].map(lambda b, t=t: b[t])
        part = gdf.assign(gi_bin=bins)[bins != 0][["cell", "gi_bin", "geometry"]]
        part["class"] = part["gi_bin"].map(BIN_CLASSES)
        _cell_layer(
            m,
            part,
            f"Gi* {start[:10]}",
            ["cell", "class"],
            ["H3", "class"],
            CLASS_COLORS,
            "class",
            show=False,
        )
    return notes


def build_page(layers: HotspotLayers, options: PageOptions) -> str:
    """The hotspot map as an HTML page."""
    m = new_map(layers.outlines, options, "事件热点 hotspots")
    notes = _gi_layer(m, layers, options) + _trend_layers(m, layers, options)
    points = layers.incidents
    shown: list[Any] = points.tolist()  # [lat, lon] pairs, as the cluster layer takes them
    if not len(points):
        notes.append("事件 cases: 本期无事件 no case in this period")
    if options.tiles_url and options.tiles_crs != "wgs84" and len(points):
        shifted = for_display(
            gpd.GeoDataFrame(geometry=gpd.points_from_xy(points[:, 1], points[:, 0]), crs=WGS84),
            options,
        )
        shown = list(zip(shifted.geometry.y.round(6), shifted.geometry.x.round(6), strict=True))
    FastMarkerCluster(
        shown,
        callback=CLUSTER_CALLBACK,
        icon_create_function=NEUTRAL_CLUSTERS,
        name=f"事件 cases ({len(points):,})",
        show=True,
    ).add_to(m)
    q = layers.query
    Panel(
        legend_html(
            f"Getis-Ord Gi* — H3 res {q.resolution}, {q.inference} p,"
            f" FDR {'on' if q.fdr else 'off'}",
            [(CLASS_COLORS[k], CLASS_LABELS[k]) for k in CLASS_COLORS],
            [GI_LAYER, *(f"Gi* {start[:10]}" for start in layers.slices)],
        ),
        "bottomleft",
    ).add_to(m)
    if layers.trends is not None:
        present = [c for c in CATEGORIES if c in set(layers.trends["category"])]
        Panel(
            legend_html(TRENDS_LAYER, [(TREND_COLORS[c], c) for c in present], [TRENDS_LAYER]),
            "bottomright",
        ).add_to(m)
    if notes:
        Panel(_notes_html(notes), "topright", css_class="wg-notes").add_to(m)
    return render(m, options)


def _notes_html(notes: list[str]) -> str:
    items = "".join(f"<li>{escape.text(n)}</li>" for n in notes)
    return f'<div class="wg-legend"><h4>{escape.text(NO_PATTERN_NOTE)}</h4><ul>{items}</ul></div>'
