"""The SLA sweep's writes: warn and escalate many cases in a few statements.

The sweep (`grids.cases.sla`) reads its candidate rows once.  The new step deadline
depends only on category × urgency × step and the sweep's moment, so it is computed
once per key; the target unit comes from the units read once
(`grids.cases.levels.UnitIndex`); the new assignee of a case whose assignee is off
duty from the duty rule evaluated for all of them in one query
(`grids.cases.duty.assign_cases`).  The cases' updates go out as one
``UPDATE … FROM unnest(…)``, the events and notices as multi-row INSERTs, per case in
the order warn, escalate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, WARN_SHARE, Limit, step_deadline
from grids.cases.duty import Assignment
from grids.cases.levels import UnitIndex
from grids.cases.reference import work_calendar
from layers.core.roles import SYSTEM
from layers.tables.base import Base
from layers.tables.incidents import HANDLING_LEVELS, IncidentEvent
from layers.tables.notices import Notice

ACTOR = "sla-sweep"
WARN_REASON = "督办: time limit 80 % used"
ESCALATE_REASON = "督办: time limit overrun"

_UPDATE = text(
    "UPDATE incidents i SET handling_level = v.level, unit_id = coalesce(v.unit, i.unit_id), "
    "due_at = v.due, warned_at = NULL, escalation_count = i.escalation_count + 1, "
    "version = i.version + 1, updated_at = :now, "
    "assignee_worker_id = coalesce(v.worker, i.assignee_worker_id), "
    "assignment_reason = CASE WHEN v.worker IS NULL THEN i.assignment_reason ELSE v.reason END, "
    "deadlines = i.deadlines || jsonb_build_object(v.step, CAST(v.record AS jsonb)) "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:levels AS text[]), CAST(:units AS int[]), "
    "CAST(:dues AS timestamptz[]), CAST(:steps AS text[]), CAST(:records AS text[]), "
    "CAST(:workers AS int[]), CAST(:reasons AS text[])) "
    "AS v(id, level, unit, due, step, record, worker, reason) WHERE i.id = v.id"
)
_WARNED = text("UPDATE incidents SET warned_at = :now WHERE id = ANY(:ids)")


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def _event(row: Any, action: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "incident_id": row.id,
        "at": now,
        "actor": ACTOR,
        "role": SYSTEM,
        "action": action,
        "from_status": row.status,
        "to_status": row.status,
        "reason": WARN_REASON if action == "warn" else ESCALATE_REASON,
        "data": data,
    }


def _notice(case_id: int, unit_id: int, kind: str, level: str, now, data) -> dict[str, Any]:
    return {
        "incident_id": case_id,
        "unit_id": unit_id,
        "kind": kind,
        "at": now,
        "body": f"case {case_id} escalated to {level} level",
        "data": data,
    }


class _Writes:
    """What the set path will write, collected row by row in the sweep's order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.notices: list[dict[str, Any]] = []
        self.warned: list[int] = []
        self.moves: dict[str, list[Any]] = {
            k: []
            for k in ("ids", "levels", "units", "dues", "steps", "records", "workers", "reasons")
        }


def _escalation(
    w: _Writes, row: Any, step: str, record: dict, units: UnitIndex, now, new: Assignment | None
) -> None:
    after = HANDLING_LEVELS[HANDLING_LEVELS.index(row.handling_level) + 1]
    target = units.unit_for(row, after)
    moved: dict[str, Any] = {}
    handover: dict[str, Any] = {}
    if new is not None and new.worker_id is not None and new.worker_id != row.assignee_worker_id:
        handover = {
            "reassigned": {
                "from": row.assignee_worker_id,
                "to": new.worker_id,
                "reason": new.reason,
            }
        }
    else:
        new = None
    if target is not None:
        moved = {"from_unit": units.codes.get(row.unit_id or 0), "to_unit": target[1]}
        data = {**moved, "note": None}
        w.notices.append(_notice(row.id, target[0], "escalated", after, now, data))
        if row.unit_id is not None and row.unit_id != target[0]:
            w.notices.append(_notice(row.id, row.unit_id, "informed", after, now, data))
    for key, value in (
        ("ids", row.id),
        ("levels", after),
        ("units", target[0] if target else None),
        ("dues", record.get("due_at")),
        ("steps", step),
        ("records", json.dumps({**record, "escalated_at": now.isoformat()})),
        ("workers", new.worker_id if new else None),
        ("reasons", new.reason if new else None),
    ):
        w.moves[key].append(value)
    overdue = row.due_at.isoformat() if row.due_at else None
    w.events.append(
        _event(
            row,
            "escalate",
            now,
            {
                "from_level": row.handling_level,
                "to_level": after,
                "step": step,
                "overdue_since": overdue,
                "automatic": True,
                **moved,
                **handover,
            },
        )
    )


def sweep_set(
    *,
    session: Session,
    rows: Sequence[Any],
    escalates: Callable[[Any], bool],
    limits: Callable[[str, str], dict[str, Limit]],
    units: UnitIndex,
    reassign: dict[int, Assignment],
    now: datetime,
) -> tuple[int, int]:
    """Warn and escalate `rows` in a few statements; the counts (warned, escalated)."""
    w, records = _Writes(), {}
    calendar = work_calendar(session=session)
    for row in rows:
        step = STEP_OF_STATUS[row.status]
        if row.warned_at is None:
            old = row.record or {}
            data = {"step": step, "due_at": old.get("due_at"), "share": WARN_SHARE}
            w.events.append(_event(row, "warn", now, data))
            w.warned.append(row.id)
        if escalates(row):
            key = (row.category_code, row.urgency, step)
            if key not in records:
                step_limits = limits(row.category_code, row.urgency)
                records[key] = (
                    step_deadline(now, step_limits[step], calendar=calendar)
                    if step in step_limits
                    else {}
                )
            _escalation(w, row, step, records[key], units, now, reassign.get(row.id))
    moved = set(w.moves["ids"])
    only_warned = [i for i in w.warned if i not in moved]  # an escalation clears warned_at
    if only_warned:
        session.execute(_WARNED, {"now": now, "ids": only_warned})
    if w.moves["ids"]:
        session.execute(_UPDATE, {"now": now, **w.moves})
    if w.events:
        session.execute(insert(_table(IncidentEvent)), w.events)  # Core: no ORM bookkeeping
    if w.notices:
        session.execute(insert(_table(Notice)), w.notices)
    return len(w.warned), len(w.moves["ids"])
