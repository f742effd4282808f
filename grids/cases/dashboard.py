"""The leader's dashboard: the district's figures as charts, each a small table.

Every chart is ``{id, title, kind, unit, columns, rows}``: the page draws it, the
CSV download is the same table, so what a leader hovers over and what they download
are the same numbers.  The rates come from `case_kpis` (the figures of
``GET /analytics/kpis``, same definitions); the counts, satisfaction, channels and
hotspots are single SQL statements over the same tables.  "Now", today and this
month are the app clock's, in the district's local time (China Standard Time).

- received / closed / overdue today and this month: cases reported, cases closed
  (``closed_at``) in the period, and open cases whose running step came due in the
  period and is still not done;
- on time per step and resolution levels (小事不出社) per street over the last 30
  days (the default window of ``GET /analytics/kpis``: the same numbers), and the
  resolution levels and rework over the last eight weeks (seven-day windows ending now);
- satisfaction: the scores (1–5) of the cases evaluated in the last 30 days;
- channel mix: cases reported in the last 30 days per intake channel (96966 hotline first);
- hotspots: the last 30 days' cases per level-1 grid cell, the busiest cells.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.kpis import case_kpis
from layers.tables.clocks import LOCAL_TZ
from layers.tables.incidents import OPEN_STATUSES

WEEKS = 8
WINDOW = timedelta(days=30)
"""The rates' window: as `GET /analytics/kpis` without ``from``."""
HOT_CELLS = 60
HOTLINE = "hotline_96966"

_COUNTS_SQL = text(
    """
SELECT
  count(*) FILTER (WHERE created_at >= :start AND created_at < :now) AS received,
  count(*) FILTER (WHERE closed_at >= :start AND closed_at < :now) AS closed,
  count(*) FILTER (WHERE status = ANY(:open) AND due_at >= :start AND due_at < :now) AS overdue
FROM incidents
WHERE created_at >= :start OR closed_at >= :start OR due_at >= :start
"""
)
_SATISFACTION_SQL = text(
    """
SELECT score, count(*) AS n FROM (
  SELECT DISTINCT ON (e.incident_id) CAST(e.data->>'satisfaction' AS int) AS score
  FROM incident_events e
  WHERE e.action = 'evaluate' AND e.at >= :start AND e.at < :now AND e.data ? 'satisfaction'
  ORDER BY e.incident_id, e.id DESC
) s WHERE score BETWEEN 1 AND 5 GROUP BY score
"""
)
_CHANNELS_SQL = text(
    """
SELECT c.code, c.name, c.name_en, count(i.id) AS n
FROM channels c LEFT JOIN incidents i ON i.channel_code = c.code
  AND i.created_at >= :start AND i.created_at < :now
GROUP BY c.code, c.name, c.name_en
ORDER BY (c.code = :hotline) DESC, count(i.id) DESC, c.code
"""
)
_HOT_SQL = text(
    """
SELECT g.code, round(CAST(ST_X(ST_PointOnSurface(g.geom)) AS numeric), 6) AS lon,
  round(CAST(ST_Y(ST_PointOnSurface(g.geom)) AS numeric), 6) AS lat, h.n
FROM (SELECT l1_cell_id, count(*) AS n FROM incidents
      WHERE created_at >= :start AND created_at < :now AND l1_cell_id IS NOT NULL
      GROUP BY l1_cell_id ORDER BY count(*) DESC, l1_cell_id LIMIT :k) h
JOIN grid_cells g ON g.id = h.l1_cell_id
ORDER BY h.n DESC, g.code
"""
)


def periods(now: datetime) -> dict[str, datetime]:
    """Today's and this month's start (local midnight) and the 30-day window's, for `now`."""
    local = now.astimezone(LOCAL_TZ)
    today = datetime.combine(local.date(), time(0), LOCAL_TZ)
    return {"today": today, "month": today.replace(day=1), "window": now - WINDOW}


def _chart(cid: str, title: str, kind: str, columns: list[str], rows: list[list[Any]], **more):
    return {"id": cid, "title": title, "kind": kind, "columns": columns, "rows": rows, **more}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def counts_chart(*, session: Session, now: datetime) -> dict[str, Any]:
    """Received, closed and overdue today and this month."""
    rows = []
    for key, label in (("today", "今日 today"), ("month", "本月 this month")):
        start = periods(now)[key]
        r = session.execute(
            _COUNTS_SQL, {"start": start, "now": now, "open": list(OPEN_STATUSES)}
        ).one()
        rows.append([label, int(r.received), int(r.closed), int(r.overdue)])
    columns = ["period", "received 受理", "closed 办结", "overdue 超时"]
    return _chart("counts", "案件量 Cases today and this month", "bar", columns, rows, unit="件")


def window_charts(kpis: dict[str, Any]) -> list[dict[str, Any]]:
    """On time per step and the resolution levels per street, from the last 30 days' KPIs."""
    o = kpis["overall"]
    steps = [
        ["受理 accept", _pct(o["on_time_acceptance"])],
        ["派遣 dispatch", _pct(o["on_time_dispatch"])],
        ["处置 handle", _pct(o["on_time_handling"])],
        ["结案 close", _pct(o["on_time_closure"])],
    ]
    streets = [
        [
            s.get("code"),
            s.get("name"),
            _pct(s["resolved_at_community"]),
            _pct(s["resolved_at_street"]),
            _pct(s["resolved_at_district"]),
            s["closed"],
        ]
        for s in kpis["streets"]
    ]
    level_cols = ["community 社区 %", "street 街道 %", "district 区 %"]
    return [
        _chart("on_time", "按时率 On time per step (近30天 30 days)", "bar", ["step", "on time %"],
               steps, unit="%"),
        _chart("levels_by_street", "小事不出社 Resolved at level per street (近30天 30 days)",
               "stacked", ["street", "name", *level_cols, "closed"], streets, unit="%"),
    ]  # fmt: skip


def weekly_charts(*, session: Session, now: datetime) -> list[dict[str, Any]]:
    """Resolution levels and the rework rate in each of the last eight weeks."""
    levels, rework = [], []
    for k in range(WEEKS - 1, -1, -1):
        end = now - timedelta(days=7 * k)
        start = end - timedelta(days=7)
        o = case_kpis(session=session, start=start, end=end)["overall"]
        label = start.astimezone(LOCAL_TZ).date().isoformat()
        levels.append(
            [
                label,
                _pct(o["resolved_at_community"]),
                _pct(o["resolved_at_street"]),
                _pct(o["resolved_at_district"]),
            ]
        )
        rework.append([label, _pct(o["rework_rate"]), o["cases"]])
    level_cols = ["week from", "community 社区 %", "street 街道 %", "district 区 %"]
    return [
        _chart("levels_over_time", "小事不出社 Resolved at level, weekly", "line", level_cols,
               levels, unit="%"),
        _chart("rework", "返工率 Rework rate, weekly", "line",
               ["week from", "rework %", "cases"], rework, unit="%"),
    ]  # fmt: skip


def satisfaction_chart(*, session: Session, now: datetime) -> dict[str, Any]:
    """How the last 30 days' evaluated cases were scored, 1 to 5, and the mean."""
    start = periods(now)["window"]
    found = {int(r.score): int(r.n) for r in session.execute(_SATISFACTION_SQL, _p(start, now))}
    rows = [[score, found.get(score, 0)] for score in range(1, 6)]
    total = sum(n for _, n in rows)
    mean = round(sum(s * n for s, n in rows) / total, 2) if total else None
    return _chart("satisfaction", "满意度 Satisfaction (近30天 30 days)", "bar",
                  ["score", "cases"], rows, unit="件", mean=mean)  # fmt: skip


def channels_chart(*, session: Session, now: datetime) -> dict[str, Any]:
    """Cases reported in the last 30 days per channel; the 96966 hotline's share."""
    start = periods(now)["window"]
    rows = [
        [r.code, f"{r.name} {r.name_en}", int(r.n)]
        for r in session.execute(_CHANNELS_SQL, {**_p(start, now), "hotline": HOTLINE})
    ]
    total = sum(r[2] for r in rows)
    hot = next((r[2] for r in rows if r[0] == HOTLINE), 0)
    share = round(100 * hot / total, 2) if total else None
    return _chart("channels", "渠道 Channel mix (近30天 30 days)", "pie",
                  ["channel", "name", "cases"], rows, unit="件", hotline_share=share)  # fmt: skip


def hotspot_chart(*, session: Session, now: datetime) -> dict[str, Any]:
    """The last 30 days' busiest level-1 cells with a point inside each (the small map)."""
    start = periods(now)["window"]
    rows = [
        [r.code, float(r.lon), float(r.lat), int(r.n)]
        for r in session.execute(_HOT_SQL, {**_p(start, now), "k": HOT_CELLS})
    ]
    return _chart("hotspots", "热点网格 Hotspot cells (近30天 30 days)", "map",
                  ["cell", "lon", "lat", "cases"], rows, unit="件")  # fmt: skip


_KINDS = {
    "courtyard": "院落 courtyards",
    "entrance": "出入口 entrances",
    "intersection": "路口 crossings",
    "key_place": "重点场所 key places",
}


def camera_chart(summary: dict[str, Any]) -> dict[str, Any]:
    """Cameras online and key places covered, from a coverage report's summary."""
    cams = summary["cameras"]
    rows = [["在线 online", _pct(cams["online_share"]), cams["online"], cams["total"]]]
    for kind, c in sorted(summary["targets"].items()):
        rows.append([_KINDS.get(kind, kind), _pct(c["share"]), c["covered"], c["total"]])
    key = summary["national_targets"]["key_public_places_covered"]
    return _chart("cameras", "视频 Cameras online and key places covered", "bar",
                  ["figure", "%", "count", "of"], rows, unit="%",
                  key_places_target=_pct(key["target"]))  # fmt: skip


def _p(start: datetime, now: datetime) -> dict[str, Any]:
    return {"start": start, "now": now}


def case_charts(*, session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every case chart of the dashboard (the camera chart is added by the caller)."""
    window = case_kpis(session=session, start=periods(now)["window"], end=now)
    return [
        counts_chart(session=session, now=now),
        *window_charts(window),
        *weekly_charts(session=session, now=now),
        satisfaction_chart(session=session, now=now),
        channels_chart(session=session, now=now),
        hotspot_chart(session=session, now=now),
    ]
