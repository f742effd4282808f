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
changing right now are skipped and picked up by the next run.  The sweep is two set
statements (`grids.cases.sla_bulk`: pick, apply) with the duty rule evaluated once for
all the cases whose assignee is off duty; no case passes through Python one by one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import Limit, limits_for
from grids.cases.duty import assign_cases
from grids.cases.sla_bulk import MAX_ESCALATIONS, apply, pick
from layers.store.partitions import create_ahead, may_create
from layers.tables.case_transfers import notice_overdue_parts

__all__ = ["MAX_ESCALATIONS", "SWEEP_LOCK", "SweepReport", "sweep"]

logger = logging.getLogger(__name__)

SWEEP_LOCK = 0x5A6E_5357  # advisory lock key shared by all sweepers


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did."""

    warned: int
    escalated: int
    skipped: bool = False
    departments_told: int = 0
    """Departments' open parts past their limit, told once (督办) by this sweep."""


def _partitions_ahead(session: Session, now: datetime) -> None:
    """Next months' partitions of the cases, when this role may make them (docs/storage.md).

    Usually a no-op (they exist); the server's service role may not create them,
    so there `wangge db partitions create-ahead` (or the migration's three months
    ahead, and the DEFAULT partition meanwhile) does it.
    """
    conn = session.connection()
    if may_create(conn):
        with session.begin_nested():
            create_ahead(conn, now=now, months=2)


def sweep(*, session: Session, now: datetime) -> SweepReport:
    """Warn and escalate every open case whose running step crossed 80 % / 100 % by `now`."""
    now = now.astimezone(UTC)
    if not session.execute(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}
    ).scalar():
        return SweepReport(0, 0, skipped=True)
    # The duty rule's statement over a few thousand off-duty cases is estimated dear enough
    # for PostgreSQL to JIT-compile it: 0.9 s of compiling for 0.4 s of work at full scale.
    session.execute(text("SET LOCAL jit = off"))
    _partitions_ahead(session, now)
    limits: dict[tuple[str, str], dict[str, Limit]] = {}

    def limits_of(category: str, urgency: str) -> dict[str, Limit]:
        if (category, urgency) not in limits:
            limits[(category, urgency)] = limits_for(
                session=session, category_code=category, urgency=urgency
            )
        return limits[(category, urgency)]

    warned = escalated = 0
    picked = pick(session=session, now=now)
    if picked is not None:
        warned, escalated = apply(
            session=session,
            picked=picked,
            limits=limits_of,
            reassign=assign_cases(session=session, incident_ids=picked.off_duty),
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
