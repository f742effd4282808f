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

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, Limit, step_deadline
from grids.cases.reference import work_calendar
from layers.tables.incidents import Incident
from layers.tables.notices import notify
from layers.tables.platform_units import LEVEL_OF_HANDLING


class Placed(Protocol):
    """A case's area, as an `Incident` or a row read by the sweep has it."""

    community_id: int | None
    street_id: int | None


@dataclass(frozen=True)
class UnitIndex:
    """Every unit by its area, read once (a sweep moves many cases with one read)."""

    community: dict[int, tuple[int, str]]
    street: dict[int, tuple[int, str]]
    district: tuple[int, str] | None
    codes: dict[int, str]

    def unit_for(self, incident: Placed, handling_level: str) -> tuple[int, str] | None:
        """The unit whose queue a case of this area holds at `handling_level` (id, code)."""
        level = LEVEL_OF_HANDLING[handling_level]
        found = None
        if level == "community" and incident.community_id is not None:
            found = self.community.get(incident.community_id)
        if found is None and level in ("community", "street") and incident.street_id is not None:
            found = self.street.get(incident.street_id)
        return found or self.district


def unit_index(*, session: Session) -> UnitIndex:
    """The platform's units, indexed by community, street and level."""
    rows = session.execute(
        text("SELECT id, code, level, street_id, community_id FROM platform_units ORDER BY id")
    ).all()
    district = next(((r.id, r.code) for r in rows if r.level == "district"), None)
    return UnitIndex(
        {r.community_id: (r.id, r.code) for r in rows if r.community_id is not None},
        {r.street_id: (r.id, r.code) for r in rows if r.street_id is not None},
        district,
        {r.id: r.code for r in rows},
    )


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
    index: UnitIndex | None = None,
) -> dict[str, Any]:
    """Put the case at `to_level` in that unit's queue; notify both units; the event's data.

    `kind` is ``escalated`` or ``handed_down``: the receiving unit's notice; the unit
    left behind (if another) gets an ``informed`` one.
    """
    index = index or unit_index(session=session)
    before_unit = incident.unit_id
    target = index.unit_for(incident, to_level)
    incident.handling_level = to_level
    if target is None:  # no platform units loaded (an empty district): the level alone moves
        return {}
    unit_id, code = target
    incident.unit_id = unit_id
    body = f"case {incident.id} {kind.replace('_', ' ')} to {to_level} level"
    data = {"from_unit": index.codes.get(before_unit or 0), "to_unit": code, "note": note}
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
