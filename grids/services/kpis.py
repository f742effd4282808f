"""The service network's figures a leader asks for, in SQL.

- appointments kept / missed (and the kept share of those decided) per station and item;
- proxy requests: closed, closed with every step on time, open and overdue;
- 全区通办: requests accepted at a station outside the resident's own community;
- online share: matters begun online (appointments booked online, online proxy
  requests) among all matters including walk-ins (walk-in appointments taken at the
  window and walk-in proxy requests count as offline), per station and per item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_MATTERS = """
WITH m AS (
  SELECT a.service_point_id AS point_id, a.item_id, a.channel = 'online' AS online
  FROM appointments a
  WHERE a.status <> 'cancelled'
  UNION ALL
  SELECT r.accepting_point_id, r.item_id, r.channel = 'online' FROM proxy_requests r
)
SELECT {key} AS key, count(*) AS matters, count(*) FILTER (WHERE m.online) AS online
FROM m {join} GROUP BY 1 ORDER BY matters DESC, key LIMIT :limit
"""
_KEYS = {
    "station": ("sp.code", "LEFT JOIN service_points sp ON sp.id = m.point_id"),
    "item": ("si.code", "JOIN service_items si ON si.id = m.item_id"),
}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _appointments(session: Session, by: str, limit: int) -> list[dict[str, Any]]:
    key, join = _KEYS[by]
    rows = session.execute(
        text(
            f"SELECT {key} AS key, count(*) FILTER (WHERE m.status = 'kept') AS kept, "  # noqa: S608
            "count(*) FILTER (WHERE m.status = 'missed') AS missed, "
            "count(*) FILTER (WHERE m.status = 'booked') AS booked, "
            "count(*) FILTER (WHERE m.status = 'cancelled') AS cancelled "
            f"FROM appointments m {join.replace('m.point_id', 'm.service_point_id')} "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT :limit"
        ),
        {"limit": limit},
    ).all()
    return [
        {
            by: r.key,
            "kept": r.kept,
            "missed": r.missed,
            "booked": r.booked,
            "cancelled": r.cancelled,
            "kept_share": _share(r.kept, r.kept + r.missed),
        }
        for r in rows
    ]


def _proxy(session: Session, now: datetime) -> dict[str, Any]:
    r = session.execute(
        text(
            "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'closed') AS closed, "
            "count(*) FILTER (WHERE status = 'closed' AND NOT EXISTS (SELECT 1 FROM "
            "jsonb_each(deadlines) d WHERE (d.value->>'on_time')::boolean IS FALSE)) AS on_time, "
            "count(*) FILTER (WHERE due_at < :n) AS overdue, "
            "count(*) FILTER (WHERE accepting_point_id IS NOT NULL AND home_community_id IS NOT "
            "NULL) AS located, "
            "count(*) FILTER (WHERE sp.community_id IS DISTINCT FROM home_community_id AND "
            "accepting_point_id IS NOT NULL AND home_community_id IS NOT NULL) AS away "
            "FROM proxy_requests r LEFT JOIN service_points sp ON sp.id = r.accepting_point_id"
        ),
        {"n": now},
    ).one()
    return {
        "requests": r.total,
        "closed": r.closed,
        "closed_on_time": r.on_time,
        "on_time_share": _share(r.on_time, r.closed),
        "open_overdue": r.overdue,
        "district_wide": {
            "accepted_with_known_home": r.located,
            "away_from_home": r.away,
            "away_share": _share(r.away, r.located),
        },
    }


def _online(session: Session, by: str, limit: int) -> list[dict[str, Any]]:
    key, join = _KEYS[by]
    rows = session.execute(text(_MATTERS.format(key=key, join=join)), {"limit": limit}).all()
    return [
        {
            by: r.key,
            "matters": r.matters,
            "online": r.online,
            "online_share": _share(r.online, r.matters),
        }
        for r in rows
    ]


def service_kpis(*, session: Session, now: datetime, limit: int = 50) -> dict[str, Any]:
    """Every figure of the module docstring (top `limit` stations and items by volume)."""
    return {
        "at": now,
        "appointments": {
            "by_station": _appointments(session, "station", limit),
            "by_item": _appointments(session, "item", limit),
        },
        "proxy": _proxy(session, now),
        "online_share": {
            "by_station": _online(session, "station", limit),
            "by_item": _online(session, "item", limit),
        },
    }
