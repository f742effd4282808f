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
changing right now are skipped and picked up by the next run.  The writes go out as a
few set statements (`grids.cases.sla_bulk`), the duty rule evaluated once for all the
cases whose assignee is off duty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, and_, case, cast, or_, select, text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, Limit, limits_for
from grids.cases.duty import assign_cases
from grids.cases.levels import unit_index
from grids.cases.sla_bulk import sweep_set
from layers.tables.case_transfers import notice_overdue_parts
from layers.tables.incidents import HANDLING_LEVELS, Incident

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
    Incident.assignee_worker_id,
)


def _record():
    return Incident.deadlines.op("->")(case(STEP_OF_STATUS, value=Incident.status))


def _current(column: str):
    return cast(_record().op("->>")(column), DateTime(timezone=True))


def _candidates(session: Session, now: datetime) -> list[Any]:
    timed = Incident.status.in_(list(STEP_OF_STATUS)) & Incident.due_at.is_not(None)
    overdue = and_(
        Incident.due_at <= now,
        Incident.escalation_count < MAX_ESCALATIONS,
        Incident.handling_level != HANDLING_LEVELS[-1],
    )
    warn_due = and_(Incident.warned_at.is_(None), _current("warn_at") <= now)
    return list(
        session.execute(
            select(*_COLUMNS)  # the step's record stays in SQL (the warn event reads it there)
            .where(timed, or_(overdue, warn_due))
            .order_by(Incident.id)
            .with_for_update(skip_locked=True, of=Incident)
        ).all()
    )


def _without_duty(session: Session, ids: list[int]) -> list[int]:
    """The cases among `ids` without an on-duty assignee: only they may change hands."""
    if not ids:
        return []
    return list(
        session.scalars(
            text(
                "SELECT i.id FROM incidents i LEFT JOIN workers w ON w.id = i.assignee_worker_id "
                "WHERE i.id = ANY(CAST(:ids AS bigint[])) AND (w.id IS NULL OR NOT w.on_duty) "
                "ORDER BY i.id"
            ),
            {"ids": "{" + ",".join(str(int(i)) for i in ids) + "}"},
        )
    )


def sweep(*, session: Session, now: datetime) -> SweepReport:
    """Warn and escalate every open case whose running step crossed 80 % / 100 % by `now`."""
    now = now.astimezone(UTC)
    if not session.execute(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}
    ).scalar():
        return SweepReport(0, 0, skipped=True)
    rows = _candidates(session, now)

    def escalates(row: Any) -> bool:
        return bool(
            row.due_at is not None
            and row.due_at <= now
            and row.escalation_count < MAX_ESCALATIONS
            and row.handling_level != HANDLING_LEVELS[-1]
        )

    limits: dict[tuple[str, str], dict[str, Limit]] = {}

    def limits_of(category: str, urgency: str) -> dict[str, Limit]:
        if (category, urgency) not in limits:
            limits[(category, urgency)] = limits_for(
                session=session, category_code=category, urgency=urgency
            )
        return limits[(category, urgency)]

    moving = _without_duty(session, [r.id for r in rows if escalates(r)])
    warned, escalated = sweep_set(
        session=session,
        rows=rows,
        escalates=escalates,
        limits=limits_of,
        units=unit_index(session=session),
        reassign=assign_cases(session=session, incident_ids=moving),
        now=now,
    )
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
