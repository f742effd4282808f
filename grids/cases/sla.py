"""The SLA sweep: warn at 80 % of a step's limit, escalate one level at 100 %, and again.

Run by ``wangge sla sweep`` and periodically inside ``wangge serve``.  Each
warning and escalation is an `incident_events` row (role ``system``) written
in the sweep's transaction.  The sweep is idempotent: a warned case is not
warned again for the same deadline, and an escalation starts a fresh deadline
for the step (counted from the escalation), so a second run finds nothing more
to do; only a second overrun escalates again (grid → community → street →
district), moving the case into the receiving unit's queue with a notice to it and
to the unit it left (`grids.cases.levels`); automatic escalation stops at the
district centre, after `MAX_ESCALATIONS`.  Departments' open parts past their
working-day limit (`case_transfers`) get one supervision notice each.  Concurrent sweeps
(several server processes) serialise on an advisory lock; rows a user is
changing right now are skipped and picked up by the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, and_, case, cast, or_, select, text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, WARN_SHARE, Limit, limits_for, step_deadline
from grids.cases.duty import reassign_if_off_duty
from grids.cases.levels import UnitIndex, move_to_level, unit_index
from grids.cases.reference import work_calendar
from grids.cases.sla_bulk import ACTOR, ESCALATE_REASON, WARN_REASON, sweep_set
from layers.core.roles import SYSTEM
from layers.tables.case_transfers import notice_overdue_parts
from layers.tables.incidents import HANDLING_LEVELS, Incident, IncidentEvent

logger = logging.getLogger(__name__)

MAX_ESCALATIONS = len(HANDLING_LEVELS) - 1
"""A case is escalated automatically until it reaches the district (grid → … → district)."""
SWEEP_LOCK = 0x5A6E_5357  # advisory lock key shared by all sweepers


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did."""

    warned: int
    escalated: int
    skipped: bool = False
    departments_told: int = 0
    """Departments' open parts past their limit, told once (督办) by this sweep."""


_COLUMNS = (
    Incident.id,
    Incident.status,
    Incident.category_code,
    Incident.urgency,
    Incident.handling_level,
    Incident.escalation_count,
    Incident.warned_at,
    Incident.due_at,
    Incident.unit_id,
    Incident.community_id,
    Incident.street_id,
)


def _record():
    return Incident.deadlines.op("->")(case(STEP_OF_STATUS, value=Incident.status))


def _current(column: str):
    step = case(STEP_OF_STATUS, value=Incident.status)
    return cast(Incident.deadlines.op("->")(step).op("->>")(column), DateTime(timezone=True))


def sweep(*, session: Session, now: datetime) -> SweepReport:
    """Warn and escalate every open case whose running step crossed 80 % / 100 % by `now`."""
    now = now.astimezone(UTC)
    if not session.execute(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}
    ).scalar():
        return SweepReport(0, 0, skipped=True)
    timed = Incident.status.in_(list(STEP_OF_STATUS)) & Incident.due_at.is_not(None)
    overdue = and_(
        Incident.due_at <= now,
        Incident.escalation_count < MAX_ESCALATIONS,
        Incident.handling_level != HANDLING_LEVELS[-1],
    )
    warn_due = and_(Incident.warned_at.is_(None), _current("warn_at") <= now)
    rows = session.execute(
        select(*_COLUMNS, _record().label("record"))
        .where(timed, or_(overdue, warn_due))
        .order_by(Incident.id)
        .with_for_update(skip_locked=True, of=Incident)
    ).all()
    ctx = _Context(unit_index(session=session), _without_duty(session, [r.id for r in rows]))

    def escalates(row) -> bool:
        return bool(
            row.due_at is not None
            and row.due_at <= now
            and row.escalation_count < MAX_ESCALATIONS
            and row.handling_level != HANDLING_LEVELS[-1]
        )

    by_hand = {r.id for r in rows if r.id in ctx.uncovered and escalates(r)}
    warned, escalated = sweep_set(
        session=session,
        rows=[r for r in rows if r.id not in by_hand],
        escalates=escalates,
        limits=lambda c, u: ctx.limits_of(session, c, u),
        units=ctx.units,
        now=now,
    )
    one_by_one = session.scalars(select(Incident).where(Incident.id.in_(by_hand))).all()
    with session.no_autoflush:  # one flush at the end: the rows' writes go out in batches
        for incident in sorted(one_by_one, key=lambda i: i.id):
            warned, escalated = _one(session, incident, ctx, now, warned, escalated)
    session.flush()
    told = notice_overdue_parts(session=session, now=now)
    if warned or escalated or told:
        logger.info(
            "SLA sweep at %s: %d warned, %d escalated, %d department parts overdue",
            now.isoformat(),
            warned,
            escalated,
            told,
        )
    return SweepReport(warned, escalated, departments_told=told)


@dataclass
class _Context:
    """What one sweep reads once: the units, the cases without an on-duty assignee, limits."""

    units: UnitIndex
    uncovered: set[int]
    limits: dict[tuple[str, str], dict[str, Limit]] = field(default_factory=dict)

    def limits_of(self, session: Session, category: str, urgency: str) -> dict[str, Limit]:
        """The step limits of a category at an urgency, read once per sweep."""
        key = (category, urgency)
        if key not in self.limits:
            self.limits[key] = limits_for(session=session, category_code=category, urgency=urgency)
        return self.limits[key]


def _one(session, incident, ctx: _Context, now, warned: int, escalated: int) -> tuple[int, int]:
    """Warn and/or escalate one case; the counts so far."""
    step = STEP_OF_STATUS[incident.status]
    record: dict[str, Any] = (incident.deadlines or {}).get(step) or {}
    if incident.warned_at is None:
        _event(
            session,
            incident,
            "warn",
            now,
            {"step": step, "due_at": record.get("due_at"), "share": WARN_SHARE},
        )
        incident.warned_at = now
        warned += 1
    if (
        incident.due_at is not None
        and incident.due_at <= now
        and incident.escalation_count < MAX_ESCALATIONS
        and (incident.handling_level != HANDLING_LEVELS[-1])
    ):
        limits = ctx.limits_of(session, incident.category_code, incident.urgency)
        _escalate(session, incident, step, limits, now, ctx)
        escalated += 1
    return warned, escalated


def _without_duty(session: Session, ids: list[int]) -> set[int]:
    """The cases among `ids` without an on-duty assignee: only they may change hands."""
    if not ids:
        return set()
    return set(
        session.scalars(
            text(
                "SELECT i.id FROM incidents i LEFT JOIN workers w ON w.id = i.assignee_worker_id "
                "WHERE i.id = ANY(:ids) AND (w.id IS NULL OR NOT w.on_duty)"
            ),
            {"ids": ids},
        )
    )


def _escalate(
    session: Session, incident: Incident, step: str, limits, now: datetime, ctx: _Context
) -> None:
    before = incident.handling_level
    after = HANDLING_LEVELS[HANDLING_LEVELS.index(before) + 1]
    overdue_since = incident.due_at
    calendar = work_calendar(session=session)
    record = step_deadline(now, limits[step], calendar=calendar) if step in limits else {}
    incident.deadlines = {
        **(incident.deadlines or {}),
        step: {**record, "escalated_at": now.isoformat()},
    }
    incident.due_at = datetime.fromisoformat(record["due_at"]) if record else None
    incident.warned_at = None
    moved_to = move_to_level(
        session=session,
        incident=incident,
        to_level=after,
        now=now,
        kind="escalated",
        index=ctx.units,
    )
    incident.escalation_count += 1
    incident.version += 1
    incident.updated_at = now
    moved = (
        reassign_if_off_duty(session=session, incident=incident) or {}
        if incident.id in ctx.uncovered
        else {}
    )
    _event(
        session,
        incident,
        "escalate",
        now,
        {
            "from_level": before,
            "to_level": after,
            "step": step,
            "overdue_since": overdue_since.isoformat() if overdue_since else None,
            "automatic": True,
            **moved_to,
            **moved,
        },
    )


def _event(session: Session, incident: Incident, action: str, now: datetime, data) -> None:
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            at=now,
            actor=ACTOR,
            role=SYSTEM,
            action=action,
            from_status=incident.status,
            to_status=incident.status,
            reason=WARN_REASON if action == "warn" else ESCALATE_REASON,
            data=data,
        )
    )
