"""The dispatcher map: open cases by status and overdue state, workers on duty, queue filters.

The live board (`/board`) is the dispatcher's working view; this static map stays for
printing and links to it.  It never cuts silently: when `limit` draws fewer cases than
match, the panel and the layer say "showing N of M".  Statuses are named in Chinese with
English, and workers are drawn in a colour no status uses.

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
WORKER_FILL = "#111111"
"""Workers are near-black dots with a white edge: no status colour (blues are statuses)."""
STATUS_LABELS = {
    "reported": "已上报 reported",
    "accepted": "已受理 accepted",
    "filed": "已立案 filed",
    "dispatched": "已派遣 dispatched",
    "signed": "已签收 signed",
    "in_progress": "处置中 in progress",
    "handled": "已处置 handled",
    "checking": "核查中 checking",
    "rework": "返工 rework",
    "returned": "已退回 returned",
    "parked": "挂账 parked",
    "self_handled": "自行处置 self-handled",
}
"""The open statuses in Chinese with English, as `static/wangge/case-status.js` names them."""
BOARD_PATH = "/board"


def status_name(status: str) -> str:
    """`已立案 filed` for `filed` (the code itself if unknown)."""
    return STATUS_LABELS.get(status, status)


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


def cases_layer_name(layers: DispatchLayers) -> str:
    """ "open cases (N)", or "(N / M)" when the limit cut the drawn cases short."""
    shown, total = len(layers.cases), layers.total_open
    if shown < total:
        return f"未结案件 open cases ({shown:,} / {total:,})"
    return f"未结案件 open cases ({shown:,})"


def workers_layer_name(layers: DispatchLayers) -> str:
    """The on-duty workers' layer."""
    return f"在岗网格员 on-duty workers ({len(layers.workers):,})"


def _cases(m: folium.Map, layers: DispatchLayers, options: PageOptions) -> None:
    rows = []
    for row in layers.cases.itertuples(index=False):
        lat, lon = display_point(row.geometry.x, row.geometry.y, options)
        status = row.status if row.status in STATUS_COLORS else STATUS_ORDER[0]
        style = 2 * STATUS_ORDER.index(status) + int(bool(row.overdue))
        due = "—" if pd.isna(row.due_at) else row.due_at.strftime("%Y-%m-%d %H:%M")
        head = [round(lat, 6), round(lon, 6), style, f"#{row.id}"]
        case = [f"{row.category_code} {row.category}", status_name(row.status), row.urgency, due]
        more = ["是 yes" if row.overdue else "否 no", row.description, row.address or "—"]
        rows.append([*head, *case, *more, row.street or "—", row.assignee or "—"])
    CompactPoints(
        rows,
        name=cases_layer_name(layers),
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
        name=workers_layer_name(layers),
        fields=[("lat", "lat"), ("lon", "lon"), ("style", "style"), ("who", "网格员 worker")],
        styles=[
            {"radius": 3, "color": "#ffffff", "weight": 1, "fillColor": WORKER_FILL}
            | {"fillOpacity": 0.9}
        ],
        cluster=False,
        popup=False,
        tooltip=3,
    ).add_to(m)


def showing_html(layers: DispatchLayers) -> str:
    """How many open cases match and how many the map draws (never a silent cut)."""
    shown, total = len(layers.cases), layers.total_open
    head = f"<h4>调度队列 queue — {total:,} 未结 open</h4>"
    if shown < total:
        note = (
            f'<div class="wg-showing">地图显示最新 {shown:,} 件，共 {total:,} 件 · '
            f"showing the newest {shown:,} of {total:,}; filter, or see all on the live board</div>"
        )
    else:
        note = f"<div>地图显示全部 showing all {shown:,}</div>"
    board = f'<div><a href="{BOARD_PATH}">实时调度台 live board →</a></div>'
    return head + note + board


def filter_html(layers: DispatchLayers, page_path: str) -> str:
    """The queue filter form (GET to the same page), current values escaped."""
    f = layers.filters
    options = "".join(
        f'<option value="{escape.text(s)}"{" selected" if s in f.statuses else ""}>'
        f"{escape.text(status_name(s))} ({layers.by_status.get(s, 0)})</option>"
        for s in layers.statuses
    )
    checked = " checked" if f.overdue_only else ""
    return (
        showing_html(layers)
        + f'<form class="wg-filter" method="get" action="{escape.text(page_path)}">'
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
    """The dispatcher map as an HTML page (the live board at /board is the working view)."""
    m = new_map(layers.outlines, options, "调度 dispatch")
    _cases(m, layers, options)
    _workers(m, layers, options)
    Panel(filter_html(layers, page_path), "topleft").add_to(m)
    items = [(STATUS_COLORS[s], status_name(s)) for s in STATUS_ORDER]
    items.append((OVERDUE_EDGE, "超时 overdue (red edge)"))
    legend = legend_html("状态 status", items, [cases_layer_name(layers)]) + legend_html(
        "网格员 workers", [(WORKER_FILL, "在岗网格员 on-duty worker")], [workers_layer_name(layers)]
    )
    Panel(legend, "bottomleft").add_to(m)
    return render(m, options)
