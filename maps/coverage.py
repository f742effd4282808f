"""The coverage map (staff): camera views, courtyards by covered share, gaps, figures.

Read at a glance: gaps are shown per community (a numbered circle) by default and the
single gap targets, clustered, on demand; every colour in the legend means one thing
(share classes, gap reasons and cameras use different hues).
"""

from __future__ import annotations

import logging
from typing import Any

import folium

from layers.core.map_types import CoverageLayers
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
from maps.compact import CompactPoints, CountPoints

logger = logging.getLogger(__name__)

SHARE_BINS: tuple[tuple[float, str, str], ...] = (
    (0.6, "#1a9850", "≥ 60 %"),
    (0.3, "#a6d96a", "30–60 %"),
)
SHARE_BINS += ((0.1, "#fdae61", "10–30 %"), (0.0, "#d73027", "< 10 %"))
REASON_COLORS = {
    "no_camera": "#3f007d",
    "occluded": "#e7298a",
    "camera_offline": "#01665e",
    "too_little_seen": "#8c510a",
}
"""Hues no share class uses: "< 10 %" (red) and "no camera" used to be the same red."""
VIEW_COLOR = "#2c7fb8"
OFFLINE_COLOR = "#7f7f7f"
COUNT_COLOR = "#ffffff"
"""Gaps per community are neutral circles with the number (see `maps.compact.CountPoints`)."""
REASON_LABELS = {
    "no_camera": "无摄像头 no camera",
    "occluded": "被遮挡 occluded",
    "camera_offline": "摄像头离线 camera offline",
    "too_little_seen": "覆盖不足 too little seen",
}
KIND_LABELS = {
    "entrance": "院落出入口 entrance",
    "key_place": "重点场所 key place",
    "intersection": "路口 intersection",
    "courtyard": "院落 courtyard area",
}


COURTYARDS_LAYER = "院落覆盖率 courtyards by covered share"
VIEWS_LAYER = "在线视域 online views"
OFFLINE_LAYER = "离线摄像头 (不覆盖) offline cameras, cover nothing"
COMMUNITY_LAYER = "社区缺口数 gaps per community"


def _share_color(share: float) -> str:
    for low, color, _ in SHARE_BINS:
        if share >= low:
            return color
    return SHARE_BINS[-1][1]


def _courtyards(m: folium.Map, layers: CoverageLayers, options: PageOptions) -> None:
    gdf = for_display(layers.courtyards, options)
    if not gdf.empty:
        gdf["covered_pct"] = (gdf["covered_share"] * 100).round(1)
        gdf = escape.escape_properties(gdf, ["name", "code"]).drop(columns=["covered_share"])
    feature_layer(
        m,
        gdf,
        name=COURTYARDS_LAYER,
        fields=["name", "code", "covered_pct", "entrances_seen", "entrances"],
        aliases=["院落", "code", "covered %", "entrances seen", "entrances"],
        style_function=lambda f: {
            "color": "#444444",
            "weight": 0.6,
            "fillColor": _share_color(f["properties"]["covered_pct"] / 100),
            "fillOpacity": 0.55,
        },
    )


def _views(m: folium.Map, layers: CoverageLayers, options: PageOptions) -> None:
    gdf = for_display(layers.views, options)
    if not gdf.empty:
        gdf = escape.escape_properties(gdf, ["name", "device_id"])
    online = gdf["online"].astype(bool) if not gdf.empty else None
    feature_layer(
        m,
        gdf if online is None else gdf[online],
        name=VIEWS_LAYER,
        fields=["device_id", "name", "level"],
        aliases=["id", "名称", "level"],
        style_function=lambda _f: {"color": VIEW_COLOR, "weight": 0.5, "fillOpacity": 0.35},
    )
    feature_layer(
        m,
        gdf if online is None else gdf[~online],
        name=OFFLINE_LAYER,
        fields=["device_id", "name", "level"],
        aliases=["id", "名称", "level"],
        style_function=lambda _f: {
            "color": OFFLINE_COLOR,
            "weight": 1,
            "dashArray": "3 3",
            "fillOpacity": 0.0,
        },
    )


GAP_FIELDS = [
    ("lat", "lat"),
    ("lon", "lon"),
    ("style", "style"),
    ("kind", "目标 target"),
    ("ref", "ref"),
    ("name", "名称"),
    ("why", "原因 reason"),
    ("community", "社区"),
    ("street", "街道"),
]
REASON_ORDER = list(REASON_COLORS)


def gaps_layer_name(n: int) -> str:
    """The single gap markers' layer (off by default: the per-community counts come first)."""
    return f"覆盖缺口 gap targets ({n:,})"


def _gaps(m: folium.Map, layers: CoverageLayers, options: PageOptions) -> str:
    """Gap targets as clustered markers, on demand, whose popups say what and why (text nodes)."""
    gdf = for_display(layers.gaps, options)
    rows = [
        [
            *(round(r.geometry.y, 6), round(r.geometry.x, 6), REASON_ORDER.index(r.reason)),
            *(KIND_LABELS.get(r.kind, r.kind), r.ref, r.name, REASON_LABELS[r.reason]),
            *(r.community, r.street),
        ]
        for r in gdf.itertuples(index=False)
    ]
    styles = [
        {"radius": 5, "color": "#ffffff", "weight": 1, "fillColor": c, "fillOpacity": 0.95}
        for c in REASON_COLORS.values()
    ]
    name = gaps_layer_name(len(rows))
    CompactPoints(
        rows, name=name, fields=GAP_FIELDS, styles=styles, cluster=True, title=4, show=False
    ).add_to(m)
    return name


def community_counts(layers: CoverageLayers, options: PageOptions) -> list[tuple]:
    """(lat, lon, gaps, tooltip) per community of the scope with at least one gap."""
    areas = {a["code"]: a for a in layers.areas if a["level"] == "community"}
    shown = for_display(layers.outlines.communities, options)
    reasons = layers.gaps.groupby(["community", "reason"]).size() if len(layers.gaps) else None
    rows = []
    for r in shown.itertuples(index=False):
        area = areas.get(r.code)
        if area is None or area["targets"] == area["covered"]:
            continue
        gaps = area["targets"] - area["covered"]
        why = ""
        if reasons is not None and r.name in reasons.index.get_level_values(0):
            why = (
                " ("
                + ", ".join(f"{REASON_LABELS[k]} {n}" for k, n in reasons.loc[r.name].items())
                + ")"
            )
        text = f"{r.name}: 缺口 gaps {gaps}{why} · 覆盖 covered {area['share'] * 100:.0f} %"
        point = r.geometry.representative_point()
        rows.append((point.y, point.x, gaps, text))
    return rows


def legend(gaps_name: str) -> str:
    """One section per layer; each shows while its layer is on (`wangge.legible`)."""
    return "".join(
        (
            legend_html(
                "院落覆盖率 courtyards by covered share",
                [(c, label) for _, c, label in SHARE_BINS],
                [COURTYARDS_LAYER],
            ),
            legend_html(
                "社区缺口数 gaps per community",
                [(COUNT_COLOR, "○ 数字 = 缺口数 number of gaps")],
                [COMMUNITY_LAYER],
            ),
            legend_html(
                "缺口原因 why a target is a gap",
                [(REASON_COLORS[r], REASON_LABELS[r]) for r in REASON_COLORS],
                [gaps_name],
            ),
            legend_html(
                "摄像头 cameras",
                [(VIEW_COLOR, "在线视域 online view"), (OFFLINE_COLOR, "离线 offline (dashed)")],
                [VIEWS_LAYER, OFFLINE_LAYER],
            ),
        )
    )


def summary_html(summary: dict[str, Any]) -> str:
    """The figures beside the national targets, escaped."""
    nat = summary["national_targets"]
    rows = []
    for key, label in (
        ("key_public_places_covered", "重点公共区域覆盖 key public areas covered"),
        ("cameras_online", "摄像头在线率 cameras online"),
    ):
        fig = nat[key]
        actual = "—" if fig["actual"] is None else f"{fig['actual'] * 100:.1f} %"
        css = "wg-met" if fig["met"] else "wg-missed"
        rows.append(
            f'<tr><th>{escape.text(label)}</th><td class="{css}">{escape.text(actual)}</td>'
            f"<td>目标 target {fig['target'] * 100:.0f} %</td></tr>"
        )
    for kind, fig in summary["targets"].items():
        share = "—" if fig["share"] is None else f"{fig['share'] * 100:.1f} %"
        rows.append(
            f"<tr><th>{escape.text(KIND_LABELS.get(kind, kind))}</th>"
            f"<td>{escape.text(share)}</td><td>{fig['covered']}/{fig['total']}</td></tr>"
        )
    gaps = summary["gaps"]
    by = ", ".join(f"{escape.text(REASON_LABELS[r])}: {n}" for r, n in gaps["by_reason"].items())
    return (
        f"<h4>视频覆盖 coverage — {escape.text(summary['scope'])}</h4>"
        f"<table>{''.join(rows)}</table>"
        f"<div>缺口 gaps: {gaps['total']} ({by})</div>"
    )


def build_page(layers: CoverageLayers, options: PageOptions) -> str:
    """The coverage map as an HTML page: aggregates first, single gaps on demand."""
    m = new_map(layers.outlines, options, "视频覆盖 coverage")
    _courtyards(m, layers, options)
    _views(m, layers, options)
    CountPoints(community_counts(layers, options), name=COMMUNITY_LAYER).add_to(m)
    gaps_name = _gaps(m, layers, options)
    Panel(summary_html(layers.summary), "topleft", "wg-summary").add_to(m)
    Panel(legend(gaps_name), "bottomleft", "wg-legend-box").add_to(m)
    return render(m, options)
