"""The station desk (服务站工作台): a station's day and a department's queue as one plain page.

Why a page and not only JSON: the staff at a window work from a list, on a
shared PC or a tablet, and should not need a client to read
`GET /services/stations/{code}/day` and `GET /services/departments/{d}/queue`.
Server-rendered HTML with no script (nothing to break, nothing the CSP must
allow); the data are exactly those answers (contacts already masked), every
value escaped.  Chinese first, English beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from maps import escape
from maps.assets import asset_urls

LOCAL_TZ = timezone(timedelta(hours=8), "CST")  # as layers.tables.clocks (maps touch no tables)

_STATUS = {
    "booked": "已预约 booked",
    "kept": "已到 kept",
    "missed": "未到 missed",
    "cancelled": "已取消 cancelled",
    "requested": "待受理 requested",
    "accepted": "已受理 accepted",
    "materials_collected": "材料已收 materials collected",
    "submitted": "已报送 submitted",
    "decided": "已办结 decided",
}

_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>服务站工作台 Station desk</title>
<link rel="stylesheet" href="{css}">
<style>.wg-desk table{{border-collapse:collapse;width:100%}}
.wg-desk th,.wg-desk td{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left}}
.wg-overdue{{color:#b00020;font-weight:bold}}</style>
</head><body>
<main class="wg-face wg-desk">
<h1>服务站工作台 Station desk</h1>
<form method="get" action="/services/desk" class="wg-desk-pick">
 <label>服务站 Station <select name="station">{options}</select></label>
 <label>日期 Date <input type="date" name="date" value="{day}"></label>
 <label>部门 Department <input name="department" value="{department}" maxlength="16"></label>
 <button type="submit">查看 Show</button>
</form>
{body}
</main></body></html>
"""


def _when(moment: Any) -> str:
    if not isinstance(moment, datetime):
        return "—"
    return moment.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")


def _table(head: Sequence[str], rows: list[list[str]], css: str, empty: str) -> str:
    if not rows:
        return f'<p class="{css} wg-empty">{empty}</p>'
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{css}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _due(row: dict[str, Any]) -> str:
    mark = ' <span class="wg-overdue">逾期 overdue</span>' if row.get("overdue") else ""
    return escape.text(_when(row.get("due_at"))) + mark


def _day_html(view: dict[str, Any]) -> str:
    """Today's appointments, walk-ins and proxy tasks of one station."""
    appts = [
        [
            escape.text(_when(a["starts_at"])),
            escape.text(f"{a['item']['name']} {a['item']['code']}"),
            escape.text(a["contact_name"]),
            escape.text(a["contact_phone"]),
            escape.text(_STATUS.get(a["status"], a["status"])),
        ]
        for a in view["appointments"]
    ]
    walk_ins = set(view["walk_ins"])
    tasks = [
        [
            f"#{int(t['id'])}" + (" 现场 walk-in" if t["id"] in walk_ins else ""),
            escape.text(f"{t['item']['name']} {t['item']['code']}"),
            escape.text(t["contact_name"]),
            escape.text(_STATUS.get(t["status"], t["status"])),
            _due(t),
        ]
        for t in view["proxy_tasks"]
    ]
    station = view["station"]
    return (
        f"<h2>{escape.text(station['name'])} {escape.text(station['code'])} · "
        f"{escape.text(view['date'])}</h2>"
        f"<h3>当日预约 Appointments ({len(appts)})</h3>"
        + _table(
            ["时间 Time", "事项 Item", "联系人 Contact", "电话 Phone", "状态 Status"],
            appts,
            "wg-desk-appointments",
            "当日无预约 No appointments this day",
        )
        + f"<h3>现场登记 Walk-ins today: <b class='wg-desk-walkins'>{len(walk_ins)}</b></h3>"
        + f"<h3>代办任务 Proxy tasks ({len(tasks)})</h3>"
        + _table(
            ["编号 No.", "事项 Item", "联系人 Contact", "状态 Status", "时限 Due"],
            tasks,
            "wg-desk-tasks",
            "无待办任务 No open proxy tasks",
        )
    )


def _queue_html(queue: dict[str, Any]) -> str:
    """Requests submitted to one department, oldest deadline first (全区通办)."""
    rows = [
        [
            f"#{int(r['id'])}",
            escape.text(f"{r['item']['name']} {r['item']['code']}"),
            escape.text(r["accepting_station"] or "—"),
            escape.text(_when(r["submitted_at"])),
            _due(r),
        ]
        for r in queue["requests"]
    ]
    return f"<h2>部门队列 Department queue · {escape.text(queue['department'])}</h2>" + _table(
        ["编号 No.", "事项 Item", "受理站 Accepted at", "报送 Submitted", "时限 Due"],
        rows,
        "wg-desk-queue",
        "队列为空 The queue is empty",
    )


def desk_page(
    *,
    stations: Sequence[tuple[str, str]],
    picked: str | None,
    day: date,
    department: str | None,
    view: dict[str, Any] | None,
    queue: dict[str, Any] | None,
    static_url: str = "/static",
) -> str:
    """The whole page; `view` / `queue` are the JSON answers (or None when not asked for)."""
    options = "".join(
        f'<option value="{escape.text(code)}"{" selected" if code == picked else ""}>'
        f"{escape.text(name)} {escape.text(code)}</option>"
        for code, name in stations
    )
    body = ""
    if view is not None:
        body += _day_html(view)
        prev_day, next_day = day - timedelta(days=1), day + timedelta(days=1)
        keep = {"station": picked or ""} | ({"department": department} if department else {})

        def link(d: date) -> str:
            return escape.text("/services/desk?" + urlencode(keep | {"date": d.isoformat()}))

        body += (
            f'<p><a href="{link(prev_day)}">← 前一天 Previous day</a> · '
            f'<a href="{link(next_day)}">后一天 Next day →</a></p>'
        )
    if queue is not None:
        body += _queue_html(queue)
    if not body:
        body = "<p>选择服务站或部门 Pick a station or a department.</p>"
    return _PAGE.format(
        css=asset_urls(static_url)["wangge_faces_css"],
        options=options,
        day=day.isoformat(),
        department=escape.text(department or ""),
        body=body,
    )
