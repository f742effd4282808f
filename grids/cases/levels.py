"""Moving a case between the platform's levels: escalation up, handing down (指派下级), 督办.

A case sits in exactly one unit's queue (`incidents.unit_id`).  Escalation moves it
to the queue of the unit above (community station → street sub-centre → district
centre) with a fresh time limit for the running step; the receiving unit gets a
notice and the unit it left is kept informed.  A unit hands a case back down with
an instruction; supervision (督办) marks the case, visible on every board.  Both the
manual actions (`grids.cases.transition_effects`) and the SLA sweep use this room, so
the move is the same whoever makes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, Limit, step_deadline
from grids.cases.reference import work_calendar
from layers.tables.incidents import Incident
from layers.tables.notices import notify
from layers.tables.platform_units import LEVEL_OF_HANDLING

_UNIT_SQL = text(
    "SELECT u.id, u.code FROM platform_units u WHERE "
    "(:level = 'community' AND u.community_id = :community) OR "
    "(:level IN ('community', 'street') AND u.street_id = :street) OR u.level = 'district' "
    "ORDER BY CASE u.level WHEN :level THEN 0 WHEN 'street' THEN 1 ELSE 2 END, u.id LIMIT 1"
)


def unit_for(
    *, session: Session, incident: Incident, handling_level: str
) -> tuple[int, str] | None:
    """The unit whose queue a case of this area holds at `handling_level` (id, code)."""
    row = session.execute(
        _UNIT_SQL,
        {
            "level": LEVEL_OF_HANDLING[handling_level],
            "community": incident.community_id,
            "street": incident.street_id,
        },
    ).first()
    return (int(row.id), str(row.code)) if row else None


def _unit_code(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    return session.execute(
        text("SELECT code FROM platform_units WHERE id = :u"), {"u": unit_id}
    ).scalar()


def restart_running_step(
    *, session: Session, incident: Incident, limits: dict[str, Limit], now: datetime, mark: str
) -> None:
    """Give the running step a fresh time limit from `now` (recorded as `mark` at `now`)."""
    step = STEP_OF_STATUS.get(incident.status)
    if step is None or step not in limits:
        return
    record = step_deadline(now, limits[step], calendar=work_calendar(session=session))
    incident.deadlines = {**(incident.deadlines or {}), step: {**record, mark: now.isoformat()}}
    incident.due_at = datetime.fromisoformat(record["due_at"])
    incident.warned_at = None


def move_to_level(
    *,
    session: Session,
    incident: Incident,
    to_level: str,
    now: datetime,
    kind: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Put the case at `to_level` in that unit's queue; notify both units; the event's data.

    `kind` is ``escalated`` or ``handed_down``: the receiving unit's notice; the unit
    left behind (if another) gets an ``informed`` one.
    """
    before_unit = incident.unit_id
    target = unit_for(session=session, incident=incident, handling_level=to_level)
    incident.handling_level = to_level
    if target is None:  # no platform units loaded (an empty district): the level alone moves
        return {}
    unit_id, code = target
    incident.unit_id = unit_id
    body = f"case {incident.id} {kind.replace('_', ' ')} to {to_level} level"
    data = {"from_unit": _unit_code(session, before_unit), "to_unit": code, "note": note}
    notify(
        session=session,
        incident_id=incident.id,
        kind=kind,
        at=now,
        body=body,
        unit_id=unit_id,
        data=data,
    )
    if before_unit is not None and before_unit != unit_id:
        notify(
            session=session,
            incident_id=incident.id,
            kind="informed",
            at=now,
            body=body,
            unit_id=before_unit,
            data=data,
        )
    return {"from_unit": data["from_unit"], "to_unit": code}


def supervise(*, session: Session, incident: Incident, now: datetime, note: str) -> dict[str, Any]:
    """Mark the case as supervised (督办) and tell its unit."""
    first = incident.supervised_at is None
    if first:
        incident.supervised_at = now
    if incident.unit_id is not None:
        notify(
            session=session,
            incident_id=incident.id,
            kind="supervised",
            at=now,
            body=f"case {incident.id} is under supervision (督办)",
            unit_id=incident.unit_id,
            data={"note": note},
        )
    return {"supervised_at": incident.supervised_at.isoformat() if incident.supervised_at else None}
