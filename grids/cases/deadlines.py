"""Time limits of the case steps: which step a status is in, and when it is due.

Each status belongs to one timed step (accept+file, dispatch, sign, handle,
check); `time_limits` gives the step's amount and clock per category ×
urgency.  A step's deadline is computed when the step starts and kept in
``incidents.deadlines`` as ``{step: {started_at, due_at, warn_at, clock,
amount}}``; ``incidents.due_at`` is the running step's deadline (NULL when no
clock runs: parked, closed, void).  Clocks: `layers.tables.clocks`, on the working
days of the district's `WorkCalendar` (official holidays + local overrides,
`grids.cases.reference.work_calendar`), which every caller passes in.  A deadline
over a day the calendar only guesses records ``"calendar": "provisional"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import UnprocessableError
from layers.tables.clocks import deadline, provisional, share_elapsed_at
from layers.tables.incidents import STEP_OF_STATUS
from layers.tables.work_calendar import WorkCalendar

__all__ = ["STEP_OF_STATUS", "WARN_SHARE", "Limit", "limits_for", "start_step", "step_deadline"]

WARN_SHARE = 0.8
"""Share of a limit after which the sweep warns."""


@dataclass(frozen=True)
class Limit:
    """One step's time limit: `amount` on `clock` (minutes, or days for the day clocks)."""

    amount: float
    clock: str


def limits_for(*, session: Session, category_code: str, urgency: str) -> dict[str, Limit]:
    """The limits of every step for a category at an urgency."""
    rows = session.execute(
        text(
            "SELECT step, amount, clock FROM time_limits WHERE category_code = :c AND urgency = :u"
        ),
        {"c": category_code, "u": urgency},
    ).all()
    if not rows:
        raise UnprocessableError(
            f"category {category_code} has no time limits for urgency {urgency}",
            code="no_time_limits",
        )
    return {r.step: Limit(float(r.amount), r.clock) for r in rows}


def step_deadline(start: datetime, limit: Limit, *, calendar: WorkCalendar) -> dict[str, Any]:
    """The deadline record of a step that starts at `start`."""
    due = deadline(start, limit.amount, limit.clock, calendar)
    warn = share_elapsed_at(start, due, limit.clock, WARN_SHARE, calendar)
    record: dict[str, Any] = {
        "started_at": start.isoformat(),
        "due_at": due.isoformat(),
        "warn_at": warn.isoformat(),
        "clock": limit.clock,
        "amount": limit.amount,
    }
    if provisional(start, due, limit.clock, calendar):
        record["calendar"] = "provisional"
    return record


def start_step(
    deadlines: dict[str, Any],
    step: str | None,
    start: datetime,
    limits: dict[str, Limit],
    *,
    calendar: WorkCalendar,
) -> tuple[dict[str, Any], datetime | None]:
    """Deadlines with `step` (re)started at `start`, and the new ``due_at``."""
    out = dict(deadlines)
    if step is None or step not in limits:
        return out, None
    out[step] = step_deadline(start, limits[step], calendar=calendar)
    return out, datetime.fromisoformat(out[step]["due_at"])


def extend_step(
    deadlines: dict[str, Any], step: str, now: datetime, limit: Limit, *, calendar: WorkCalendar
) -> tuple[dict[str, Any], datetime]:
    """Push the running step's deadline out by another `limit` counted from its current due."""
    out = dict(deadlines)
    record = dict(out[step])
    base = max(datetime.fromisoformat(record["due_at"]), now)
    due = deadline(base, limit.amount, limit.clock, calendar)
    start = datetime.fromisoformat(record["started_at"])
    record.update(
        due_at=due.isoformat(),
        warn_at=share_elapsed_at(start, due, limit.clock, WARN_SHARE, calendar).isoformat(),
        extensions=int(record.get("extensions", 0)) + 1,
    )
    if provisional(base, due, limit.clock, calendar):
        record["calendar"] = "provisional"
    out[step] = record
    return out, due


def finished_step(deadlines: dict[str, Any], step: str | None, at: datetime) -> dict[str, Any]:
    """What an event that ends `step` records: the step, its deadline, on time or not."""
    record = deadlines.get(step) if step else None
    if not isinstance(record, dict) or "due_at" not in record:
        return {}
    due = datetime.fromisoformat(record["due_at"])
    return {"step": step, "due_at": record["due_at"], "on_time": at <= due}
