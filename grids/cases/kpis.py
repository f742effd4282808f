"""Case KPIs for a period: on-time rates, rework, and where cases were resolved.

Definitions (cases reported in [from, to), optionally one street / community):

- on-time acceptance / dispatch / handling: share of the events that ended
  the accept+file / dispatch / handle step by that step's deadline (each such
  event records ``data.step`` and ``data.on_time``);
- on-time closure: share of closed cases (closed or evaluated) that never
  finished a step late and were never escalated by the SLA sweep;
- rework rate: share of checked cases sent back for rework at least once;
- resolved at community / street / district level: shares of closed cases by
  the level of the platform unit whose queue they closed in (`incidents.unit_id`;
  the handling level where a case has no unit; grid and community count as
  community level: 小事不出社、大事不出街).

Rates are None where nothing was measured.  One SQL statement computes the
district, every street and every community (GROUPING SETS).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import InvalidInputError

_SQL = """
WITH scope AS (
  SELECT i.id, i.status, coalesce(pu.level, i.handling_level) AS handling_level,
    i.street_id, i.community_id
  FROM incidents i LEFT JOIN platform_units pu ON pu.id = i.unit_id
  WHERE i.created_at >= :start AND i.created_at < :end {extra}
), per_case AS (
  SELECT s.id, s.street_id, s.community_id,
    s.status IN ('closed', 'evaluated') AS closed, s.handling_level,
    count(e.id) FILTER (WHERE e.data->>'step' = 'accept') AS acc_n,
    count(e.id) FILTER (WHERE e.data->>'step' = 'accept' AND e.data->>'on_time' = 'true')
      AS acc_ok,
    count(e.id) FILTER (WHERE e.data->>'step' = 'dispatch') AS dis_n,
    count(e.id) FILTER (WHERE e.data->>'step' = 'dispatch' AND e.data->>'on_time' = 'true')
      AS dis_ok,
    count(e.id) FILTER (WHERE e.data->>'step' = 'handle') AS han_n,
    count(e.id) FILTER (WHERE e.data->>'step' = 'handle' AND e.data->>'on_time' = 'true')
      AS han_ok,
    coalesce(bool_or(e.data->>'on_time' = 'false'), false) AS any_late,
    coalesce(bool_or(e.action = 'escalate' AND e.role = 'system'), false) AS auto_escalated,
    coalesce(bool_or(e.action = 'rework'), false) AS reworked,
    coalesce(bool_or(e.action = 'check'), false) AS checked
  FROM scope s LEFT JOIN incident_events e ON e.incident_id = s.id
  GROUP BY s.id, s.street_id, s.community_id, s.status, s.handling_level
)
SELECT GROUPING(street_id) AS g_street, GROUPING(community_id) AS g_comm,
  street_id, community_id, count(*) AS cases, count(*) FILTER (WHERE closed) AS closed,
  sum(acc_n) AS acc_n, sum(acc_ok) AS acc_ok, sum(dis_n) AS dis_n, sum(dis_ok) AS dis_ok,
  sum(han_n) AS han_n, sum(han_ok) AS han_ok,
  count(*) FILTER (WHERE closed AND NOT any_late AND NOT auto_escalated) AS closed_on_time,
  count(*) FILTER (WHERE checked) AS checked,
  count(*) FILTER (WHERE checked AND reworked) AS reworked,
  count(*) FILTER (WHERE closed AND handling_level IN ('grid', 'community')) AS at_community,
  count(*) FILTER (WHERE closed AND handling_level = 'street') AS at_street,
  count(*) FILTER (WHERE closed AND handling_level = 'district') AS at_district
FROM per_case
GROUP BY GROUPING SETS ((), (street_id), (street_id, community_id))
"""


def _rate(num: Any, den: Any) -> float | None:
    return round(float(num) / float(den), 4) if den else None


def _metrics(r: Any) -> dict[str, Any]:
    return {
        "cases": int(r.cases),
        "closed": int(r.closed),
        "on_time_acceptance": _rate(r.acc_ok, r.acc_n),
        "on_time_dispatch": _rate(r.dis_ok, r.dis_n),
        "on_time_handling": _rate(r.han_ok, r.han_n),
        "on_time_closure": _rate(r.closed_on_time, r.closed),
        "rework_rate": _rate(r.reworked, r.checked),
        "resolved_at_community": _rate(r.at_community, r.closed),
        "resolved_at_street": _rate(r.at_street, r.closed),
        "resolved_at_district": _rate(r.at_district, r.closed),
    }


def case_kpis(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    street: str | None = None,
    community: str | None = None,
) -> dict[str, Any]:
    """KPIs of the district (or the filtered area), per street and per community."""
    if end <= start:
        raise InvalidInputError("`to` must be after `from`", code="invalid_period")
    extra = ""
    params: dict[str, Any] = {"start": start, "end": end}
    if street:
        extra += " AND i.street_id IN (SELECT id FROM streets WHERE code = :street)"
        params["street"] = street
    if community:
        extra += " AND i.community_id IN (SELECT id FROM communities WHERE code = :community)"
        params["community"] = community
    rows = session.execute(text(_SQL.format(extra=extra)), params).all()
    names = _names(session)
    overall: dict[str, Any] = {}
    streets: dict[int | None, dict[str, Any]] = {}
    communities: list[tuple[Any, dict[str, Any]]] = []
    for r in rows:
        if r.g_street:
            overall = _metrics(r)
        elif r.g_comm:
            streets[r.street_id] = {**names["streets"].get(r.street_id, {}), **_metrics(r)}
        else:
            communities.append(
                (r.street_id, {**names["communities"].get(r.community_id, {}), **_metrics(r)})
            )
    for street_id, item in communities:
        streets.setdefault(street_id, {}).setdefault("communities", []).append(item)
    ordered = sorted(streets.values(), key=lambda s: s.get("code") or "")
    for s in ordered:
        s.setdefault("communities", []).sort(key=lambda c: c.get("code") or "")
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "street": street,
        "community": community,
        "overall": overall or _metrics(_Empty()),
        "streets": ordered,
    }


class _Empty:
    cases = closed = acc_n = acc_ok = dis_n = dis_ok = han_n = han_ok = 0
    closed_on_time = checked = reworked = at_community = at_street = at_district = 0


def _names(session: Session) -> dict[str, dict[Any, dict[str, str]]]:
    streets = {
        r.id: {"code": r.code, "name": r.name}
        for r in session.execute(text("SELECT id, code, name FROM streets"))
    }
    communities = {
        r.id: {"code": r.code, "name": r.name}
        for r in session.execute(text("SELECT id, code, name FROM communities"))
    }
    return {"streets": streets, "communities": communities}
