"""The self-governance map (staff): which courtyards have someone on duty, where
social organisations are thin.

Courtyards are coloured by the share of the week their liaison post is staffed;
a 三无院落 with nobody on duty all week is drawn red with a thick outline (the
gap the rota must close).  Communities are coloured by social organisations per
10,000 residents against the national average of 7, and so are the streets.
"""

from __future__ import annotations

from typing import Any

import folium

from layers.core.map_types import SelfGovernanceLayers
from maps import escape
from maps.base import PageOptions, Panel, feature_layer, for_display, legend_html, new_map, render

COVER_BINS: tuple[tuple[float, str, str], ...] = (
    (0.25, "#1a9850", "≥ 42 h / week"),
    (0.1, "#a6d96a", "17–42 h"),
    (1e-9, "#fdae61", "< 17 h"),
    (0.0, "#bdbdbd", "无人值守 nobody on duty"),
)
UNCOVERED_THREE_NOS = "#d73027"
DENSITY_BINS: tuple[tuple[float, str, str], ...] = (
    (7.0, "#2c7fb8", "≥ 7 (national average)"),
    (3.5, "#7fcdbb", "3.5–7"),
    (1e-9, "#fee391", "< 3.5"),
    (0.0, "#fe9929", "none 无"),
)


def _bin(value: float | None, bins: tuple[tuple[float, str, str], ...]) -> str:
    for low, color, _ in bins:
        if value is not None and value >= low:
            return color
    return bins[-1][1]


def _yard_style(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    bare = p["is_three_nos"] and p["hours_covered"] == 0
    return {
        "color": UNCOVERED_THREE_NOS if bare else "#444444",
        "weight": 3 if bare else 0.6,
        "fillColor": UNCOVERED_THREE_NOS if bare else _bin(p["share"], COVER_BINS),
        "fillOpacity": 0.7,
    }


def _courtyards(m: folium.Map, layers: SelfGovernanceLayers, options: PageOptions) -> None:
    gdf = for_display(layers.courtyards, options)
    if not gdf.empty:
        gdf = escape.escape_properties(gdf, ["name", "code"])
    fields = ["name", "code", "is_three_nos", "hours_covered", "shifts", "people", "on_duty_now"]
    aliases = ["院落", "code", "三无院落", "值守小时 hours", "班次 shifts", "人数 people", "在岗"]
    feature_layer(
        m,
        gdf,
        name=ROTA_LAYER,
        fields=fields,
        aliases=aliases,
        style_function=_yard_style,
    )
    bare = gdf[gdf["is_three_nos"] & (gdf["hours_covered"] == 0)] if not gdf.empty else gdf
    feature_layer(
        m,
        bare,
        name=BARE_LAYER,
        fields=["name", "code"],
        aliases=["院落", "code"],
        style_function=lambda f: {"color": UNCOVERED_THREE_NOS, "weight": 4, "fillOpacity": 0.8},
    )


ROTA_LAYER = "院落值守覆盖 rota coverage this week"
BARE_LAYER = "无人值守的三无院落 three-nos courtyards with nobody on duty"
DENSITY_LABELS = ("社区 communities", "街道 streets")


def density_layer_name(label: str) -> str:
    """The organisation-density layer of communities or streets."""
    return f"社会组织密度 social organisations per 10,000 residents: {label}"


def _density(m: folium.Map, layers: SelfGovernanceLayers, options: PageOptions) -> None:
    for frame, label, area in zip(
        (layers.communities, layers.streets), DENSITY_LABELS, ("社区", "街道"), strict=True
    ):
        gdf = for_display(frame, options)
        if not gdf.empty:
            gdf = escape.escape_properties(gdf, ["name", "code"])
        feature_layer(
            m,
            gdf,
            name=density_layer_name(label),
            fields=["name", "code", "residents", "organisations", "per_10k"],
            aliases=[area, "code", "居民 residents", "社会组织 organisations", "每万人 per 10k"],
            style_function=lambda f: {
                "color": "#555555",
                "weight": 0.8,
                "fillColor": _bin(f["properties"]["per_10k"], DENSITY_BINS),
                "fillOpacity": 0.45,
            },
            show=False,
        )


def build_page(layers: SelfGovernanceLayers, options: PageOptions) -> str:
    """The self-governance map as an HTML page."""
    m = new_map(layers.outlines, options, "邻里守望 self-governance")
    _density(m, layers, options)
    _courtyards(m, layers, options)
    f = layers.figures
    week = f"{layers.start:%Y-%m-%d} – {layers.end:%Y-%m-%d} (UTC)"
    rows = [
        ("周 week", week),
        ("院落 courtyards", str(f["courtyards"])),
        ("三无院落 three-nos", str(f["three_nos"])),
        ("无人值守三无院落 uncovered", str(f["three_nos_uncovered"])),
        ("低于全国平均的社区 thin communities", str(f["communities_below_average"])),
        ("低于全国平均的街道 thin streets", str(f["streets_below_average"])),
    ]
    Panel(escape.rows_html(rows, title="邻里守望 self-governance"), "topleft").add_to(m)
    cover = [(c, label) for _, c, label in COVER_BINS] + [(UNCOVERED_THREE_NOS, "三无院落无人值守")]
    Panel(
        legend_html("院落值守 rota coverage", cover, [ROTA_LAYER, BARE_LAYER]), "bottomleft"
    ).add_to(m)
    dens = [(c, label) for _, c, label in DENSITY_BINS]
    density = [density_layer_name(label) for label in DENSITY_LABELS]
    Panel(legend_html("社会组织/万人 organisations per 10k", dens, density), "bottomright").add_to(
        m
    )
    return render(m, options)
