"""The workflow trail of a demo case: which states it went through, when, and on time or not.

A case's path follows the closed loop (with occasional rework, returns and
parking); each step takes a log-normal time around its median, and every
event that ends a timed step records its deadline and whether it was met, as
the workflow does for live cases, so the KPIs read the demo like real history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from layers.tables import clocks
from layers.tables.incidents import STEP_OF_STATUS

WARN_SHARE = 0.8  # as grids.cases.deadlines.WARN_SHARE: the SLA sweep warns at 80 %
MAIN_PATH = (
    "reported",
    "accepted",
    "filed",
    "dispatched",
    "signed",
    "in_progress",
    "handled",
    "checking",
    "closed",
    "evaluated",
)
ACTION_FOR = {
    "accepted": "accept",
    "void": "void",
    "filed": "file",
    "dispatched": "dispatch",
    "signed": "sign",
    "in_progress": "start",
    "handled": "handle",
    "checking": "check",
    "closed": "close",
    "evaluated": "evaluate",
    "rework": "rework",
    "returned": "return",
    "parked": "park",
    "self_handled": "self_handle",
}
ROLE_FOR = {
    "accept": "dispatcher",
    "void": "dispatcher",
    "file": "dispatcher",
    "dispatch": "dispatcher",
    "sign": "grid_worker",
    "start": "grid_worker",
    "handle": "grid_worker",
    "check": "dispatcher",
    "close": "dispatcher",
    "evaluate": "dispatcher",
    "rework": "dispatcher",
    "return": "grid_worker",
    "park": "dispatcher",
    "self_handle": "grid_worker",
}
# minutes, median of each step's duration
STEP_MEDIAN = {
    "accept": 8,
    "file": 5,
    "dispatch": 15,
    "sign": 25,
    "start": 20,
    "check": 45,
    "close": 15,
    "evaluate": 2 * 24 * 60,
    "void": 10,
    "park": 60,
    "rework": 30,
    "return": 40,
    "self_handle": 20,
}


@dataclass(frozen=True)
class CategoryInfo:
    """What the generator needs of a category: urgency, handling limit, all step limits."""

    code: str
    name: str
    default_urgency: str
    handle_minutes: float
    limits: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    """(urgency, step) → (amount, clock), as in `time_limits`."""


def target_status(age: float, rng: np.random.Generator) -> str:
    """The state a case `age` days old has reached: older cases are mostly closed."""
    if age > 30:
        table = {
            "evaluated": 0.68,
            "closed": 0.22,
            "void": 0.04,
            "parked": 0.03,
            "self_handled": 0.0,
            "checking": 0.03,
        }
    elif age > 7:
        table = {
            "closed": 0.42,
            "evaluated": 0.33,
            "void": 0.03,
            "parked": 0.04,
            "in_progress": 0.06,
            "handled": 0.05,
            "checking": 0.07,
        }
    elif age > 1:
        table = {
            "in_progress": 0.22,
            "handled": 0.13,
            "checking": 0.1,
            "closed": 0.25,
            "signed": 0.08,
            "dispatched": 0.07,
            "rework": 0.04,
            "void": 0.03,
            "returned": 0.03,
            "parked": 0.02,
            "filed": 0.03,
        }
    else:
        table = {
            "reported": 0.15,
            "accepted": 0.1,
            "filed": 0.15,
            "dispatched": 0.18,
            "signed": 0.14,
            "in_progress": 0.14,
            "self_handled": 0.07,
            "void": 0.07,
        }
    keys = list(table)
    p = np.array([table[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def case_path(target: str, rng: np.random.Generator) -> list[str]:
    """The states a case passed through to reach `target`, including occasional loops."""
    main = list(MAIN_PATH)
    if target == "void":
        return ["reported", "void"]
    if target == "self_handled":
        return ["reported", "self_handled"]
    if target == "parked":
        return ["reported", "accepted", "filed", "parked"]
    if target == "returned":
        return [*main[:4], "returned"]
    if target == "rework":
        return [*main[:8], "rework"]
    path = main[: main.index(target) + 1]
    if "checking" in path and target in ("closed", "evaluated") and rng.random() < 0.07:
        i = path.index("checking") + 1
        path = [
            *path[:i],
            "rework",
            "dispatched",
            "signed",
            "in_progress",
            "handled",
            "checking",
            *path[i:],
        ]
    return path


def duration(action: str, cat: CategoryInfo, urgency: str, rng: np.random.Generator) -> float:
    """Minutes a step took: log-normal around its median, a tail that overruns sometimes."""
    if action == "handle":
        median = cat.handle_minutes * 0.45
    else:
        median = STEP_MEDIAN[action] * (0.5 if urgency == "urgent" else 1.0)
    return float(median * rng.lognormal(0.0, 0.7))


def _deadline(step: str, start: datetime, cat: CategoryInfo, urgency: str) -> dict | None:
    """The deadline record of a step starting at `start` (as `grids.cases.deadlines` writes it)."""
    limit = cat.limits.get((urgency, step))
    if limit is None:
        return None
    due = clocks.deadline(start, limit[0], limit[1])
    warn = clocks.share_elapsed_at(start, due, limit[1], WARN_SHARE)
    return {
        "started_at": start.isoformat(),
        "due_at": due.isoformat(),
        "warn_at": warn.isoformat(),
        "clock": limit[1],
        "amount": limit[0],
    }


def trail(
    case_id: int,
    path: list[str],
    created: datetime,
    cat: CategoryInfo,
    urgency: str,
    now: datetime,
    rng: np.random.Generator,
):
    """Events along `path` with the step clocks the workflow keeps; squeezed into [created, now].

    An event that ends a timed step records ``{step, due_at, on_time}`` (what the
    KPIs read); each new step starts its deadline, as `grids.cases.workflow` does.
    """
    durations = [duration(ACTION_FOR[s], cat, urgency, rng) for s in path[1:]]
    span = (now - created).total_seconds() / 60
    total = sum(durations)
    if total > span * 0.98:
        durations = [d * span * 0.98 / total for d in durations]
    events: list[tuple[Any, ...]] = [
        (case_id, created, "reporter", "resident", "report", None, "reported", None, None)
    ]
    deadlines: dict = {}
    first = _deadline("accept", created, cat, urgency)
    if first:
        deadlines["accept"] = first
    at = created
    status_at = [("reported", created)]
    for prev, status, minutes in zip(path[:-1], path[1:], durations, strict=True):
        at = at + timedelta(minutes=minutes)
        action = ACTION_FOR[status]
        role = ROLE_FOR[action]
        before, after = STEP_OF_STATUS.get(prev), STEP_OF_STATUS.get(status)
        data = None
        if before != after or action == "rework":
            ended = deadlines.get(before) if before else None
            if ended:
                due = datetime.fromisoformat(ended["due_at"])
                data = {"step": before, "due_at": ended["due_at"], "on_time": at <= due}
            started = _deadline(after, at, cat, urgency) if after else None
            if started:
                deadlines[after] = started
        events.append((case_id, at, role, role, action, prev, status, None, data))
        status_at.append((status, at))
    return events, status_at, deadlines
