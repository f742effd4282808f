"""The dispatcher map: open cases by status and overdue state, workers on duty, queue filters.

Case descriptions and addresses are user text: every popup is built with
`maps.escape`, so `<script>` or `${…}` in a description shows as text.
"""

from __future__ import annotations

import logging

import folium
import pandas as pd

from layers.core.map_types import DispatchLayers
from maps import escape
from maps.base import PageOptions, Panel, display_point, for_display, legend_html, new_map, render
from maps.compact import CompactPoints

logger = logging.getLogger(__name__)

STATUS_COLORS = {
    "reported": "#6a3d9a",
    "accepted": "#cab2d6",
    "filed": "#1f78b4",
    "dispatched": "#a6cee3",
    "signed": "#33a02c",
    "in_progress": "#b2df8a",
    "handled": "#ff7f00",
    "checking": "#fdbf6f",
    "rework": "#e31a1c",
    "returned": "#fb9a99",
    "parked": "#b15928",
    "self_handled": "#ffff99",
}
OVERDUE_EDGE = "#d7301f"


CASE_FIELDS = [
    ("lat", "lat"),
    ("lon", "lon"),
    ("style", "style"),
    ("id", "编号 case"),
    ("category", "类别 category"),
    ("status", "状态 status"),
    ("urgency", "紧急 urgency"),
    ("due", "时限 due"),
    ("overdue", "超时 overdue"),
    ("description", "描述 description"),
    ("address", "地址 address"),
    ("street", "街道 street"),
    ("assignee", "承办 assignee"),
]
STATUS_ORDER = list(STATUS_COLORS)


def case_styles() -> list[dict[str, object]]:
    """One marker style per (status, overdue): the fill tells the status, a red edge overdue."""
    styles = []
    for status in STATUS_ORDER:
        for overdue in (False, True):
            styles.append(
                {
                    "radius": 6,
                    "color": OVERDUE_EDGE if overdue else "#333333",
                    "weight": 3 if overdue else 1,
                    "fillColor": STATUS_COLORS[status],
                    "fillOpacity": 0.9,
                }
            )
    return styles


def _cases(m: folium.Map, layers: DispatchLayers, options: PageOptions) -> None:
    rows = []
    for row in layers.cases.itertuples(index=False):
        lat, lon = display_point(row.geometry.x, row.geometry.y, options)
        status = row.status if row.status in STATUS_COLORS else STATUS_ORDER[0]
        style = 2 * STATUS_ORDER.index(status) + int(bool(row.overdue))
        due = "—" if pd.isna(row.due_at) else row.due_at.strftime("%Y-%m-%d %H:%M")
        head = [round(lat, 6), round(lon, 6), style, f"#{row.id}"]
        case = [f"{row.category_code} {row.category}", row.status, row.urgency, due]
        more = ["是 yes" if row.overdue else "否 no", row.description, row.address or "—"]
        rows.append([*head, *case, *more, row.street or "—", row.assignee or "—"])
    CompactPoints(
        rows,
        name=f"未结案件 open cases ({len(rows):,})",
        fields=CASE_FIELDS,
        styles=case_styles(),
        cluster=True,
        title=3,
    ).add_to(m)


def _workers(m: folium.Map, layers: DispatchLayers, options: PageOptions) -> None:
    shown = for_display(layers.workers, options)
    rows = [
        [round(r.geometry.y, 6), round(r.geometry.x, 6), 0, f"{r.name} · {r.cell_code}"]
        for r in shown.itertuples(index=False)
    ]
    CompactPoints(
        rows,
        name=f"在岗网格员 on-duty workers ({len(rows):,})",
        fields=[("lat", "lat"), ("lon", "lon"), ("style", "style"), ("who", "网格员 worker")],
        styles=[
            {"radius": 3, "color": "#08519c", "weight": 1, "fillColor": "#3182bd"}
            | {"fillOpacity": 0.8}
        ],
        cluster=False,
        popup=False,
        tooltip=3,
    ).add_to(m)


def filter_html(layers: DispatchLayers, page_path: str) -> str:
    """The queue filter form (GET to the same page), current values escaped."""
    f = layers.filters
    options = "".join(
        f'<option value="{escape.text(s)}"{" selected" if s in f.statuses else ""}>'
        f"{escape.text(s)} ({layers.by_status.get(s, 0)})</option>"
        for s in layers.statuses
    )
    checked = " checked" if f.overdue_only else ""
    return (
        f"<h4>调度队列 queue — {layers.total_open:,} open</h4>"
        f'<form class="wg-filter" method="get" action="{escape.text(page_path)}">'
        f'<div><select name="status" multiple size="5">{options}</select></div>'
        f'<div><input name="category" placeholder="类别 category (0101 / 01)" '
        f'value="{escape.text(f.category or "")}"></div>'
        f'<div><input name="street" placeholder="街道 street code" '
        f'value="{escape.text(f.street or "")}"></div>'
        f'<div><label><input type="checkbox" name="overdue_only" value="true"{checked}> '
        f"只看超时 overdue only</label></div>"
        f'<div><button type="submit">筛选 filter</button></div></form>'
    )


def build_page(
    layers: DispatchLayers, options: PageOptions, page_path: str = "/maps/dispatch"
) -> str:
    """The dispatcher map as an HTML page."""
    m = new_map(layers.outlines, options, "调度 dispatch")
    _cases(m, layers, options)
    _workers(m, layers, options)
    Panel(filter_html(layers, page_path), "topleft").add_to(m)
    items = [(c, s) for s, c in STATUS_COLORS.items()] + [(OVERDUE_EDGE, "超时 overdue (edge)")]
    Panel(legend_html("状态 status", items), "bottomleft").add_to(m)
    return render(m, options)
