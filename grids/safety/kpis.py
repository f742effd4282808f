"""The safety platform's figures: per department, and where cases were resolved (小事不出社).

Per department, over the parts sent in [from, to): received, finished, finished on
time (by the department's working-day limit), returned (退回), and rework (a finished
part whose case the unit later sent back for rework: the department's result did not
hold).  Per level: the closed cases reported in the period by the level of the unit
whose queue they closed in (`incidents.unit_id` does not move after closing), so a
case escalated to the street and closed there counts for the street.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import InvalidInputError

_DEPT_SQL = text(
    """
SELECT d.code, d.name, count(t.id) AS received,
  count(t.id) FILTER (WHERE t.status = 'finished') AS finished,
  count(t.id) FILTER (WHERE t.status = 'finished' AND t.on_time) AS on_time,
  count(t.id) FILTER (WHERE t.status = 'returned') AS returned,
  count(t.id) FILTER (WHERE t.status = 'finished' AND EXISTS (
    SELECT 1 FROM incident_events e WHERE e.incident_id = t.incident_id
    AND e.action = 'rework' AND e.at >= t.ended_at)) AS rework,
  count(t.id) FILTER (WHERE t.status IN ('sent', 'signed', 'in_progress')) AS open
FROM departments d
LEFT JOIN case_transfers t ON t.department_id = d.id AND t.sent_at >= :start AND t.sent_at < :end
GROUP BY d.id ORDER BY d.id
"""
)

_LEVEL_SQL = text(
    """
SELECT coalesce(u.level, CASE WHEN i.handling_level IN ('grid', 'community') THEN 'community'
                              ELSE i.handling_level END) AS level, count(*) AS closed
FROM incidents i LEFT JOIN platform_units u ON u.id = i.unit_id
WHERE i.status IN ('closed', 'evaluated') AND i.created_at >= :start AND i.created_at < :end
  AND (CAST(:street AS text) IS NULL
       OR i.street_id IN (SELECT id FROM streets WHERE code = :street))
GROUP BY 1
"""
)


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None or start >= end:
        raise InvalidInputError("the period needs from < to, with a zone", code="bad_period")


def department_kpis(*, session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every department's figures over the parts sent in [start, end)."""
    _period(start, end)
    out = []
    for r in session.execute(_DEPT_SQL, {"start": start, "end": end}):
        out.append(
            {
                "department": r.code,
                "name": r.name,
                "received": int(r.received),
                "finished": int(r.finished),
                "on_time": int(r.on_time),
                "returned": int(r.returned),
                "rework": int(r.rework),
                "open": int(r.open),
                "on_time_rate": _rate(int(r.on_time), int(r.finished)),
                "return_rate": _rate(int(r.returned), int(r.received)),
                "rework_rate": _rate(int(r.rework), int(r.finished)),
            }
        )
    return out


def level_kpis(
    *, session: Session, start: datetime, end: datetime, street: str | None = None
) -> dict[str, Any]:
    """Closed cases by the level they closed at, and the shares (小事不出社、大事不出街)."""
    _period(start, end)
    counts = {"community": 0, "street": 0, "district": 0}
    params = {"start": start, "end": end, "street": street}
    for r in session.execute(_LEVEL_SQL, params):
        counts[str(r.level)] = counts.get(str(r.level), 0) + int(r.closed)
    total = sum(counts.values())
    return {
        "closed": total,
        "closed_at": counts,
        "share": {level: _rate(n, total) for level, n in counts.items()},
    }
