"""What a transition does to a case besides its status: clocks, assignee, level, extensions.

Kept apart from `grids.cases.workflow` (which decides whether a transition may
happen) so each stays small; the returned dict is the event's ``data``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, Limit, extend_step, finished_step, start_step
from grids.cases.duty import reassign_if_off_duty
from grids.cases.levels import move_to_level, restart_running_step, supervise
from grids.cases.reference import work_calendar
from layers.core.errors import ConflictError, InvalidInputError, NotFoundError
from layers.tables.incidents import HANDLING_LEVELS, Incident

RESTARTS = frozenset({"rework", "resume"})
"""Actions that restart their step's clock even though the step name stays."""


def apply_effects(
    *,
    session: Session,
    incident: Incident,
    action: str,
    target: str,
    step_before: str | None,
    limits: dict[str, Limit],
    data: dict[str, Any],
    now: datetime,
    actor_worker_id: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Mutate `incident` for `action` (status already checked); return the event data."""
    out: dict[str, Any] = {}
    special = _SPECIAL.get(action)
    if special is not None:
        out.update(special(session, incident, data, now, limits, actor_worker_id))
    moving = _MOVES.get(action)
    if moving is not None:
        out.update(moving(session, incident, data, now, limits, reason or ""))
    step_after = STEP_OF_STATUS.get(target)
    if step_after != step_before or action in RESTARTS:
        out.update(finished_step(incident.deadlines or {}, step_before, now))
        deadlines, due = start_step(
            incident.deadlines or {},
            step_after,
            now,
            limits,
            calendar=work_calendar(session=session),
        )
        incident.deadlines, incident.due_at, incident.warned_at = deadlines, due, None
    incident.status = target
    if target in ("closed", "void"):
        incident.closed_at = now
    return out


def _dispatch(session, incident, data, now, limits, _worker) -> dict[str, Any]:
    worker_id = data.get("worker_id")
    if worker_id is None:  # to whoever the duty rule picks, if the assignee is off duty
        moved = reassign_if_off_duty(session=session, incident=incident) or {}
        return {"worker_id": incident.assignee_worker_id, **moved}
    if not isinstance(worker_id, int) or isinstance(worker_id, bool):
        raise InvalidInputError("data.worker_id must be an integer", code="invalid_worker")
    row = session.execute(
        text("SELECT on_duty FROM workers WHERE id = :w"), {"w": worker_id}
    ).first()
    if row is None:
        raise NotFoundError(f"no worker {worker_id}", code="worker_not_found")
    if not row.on_duty:
        raise ConflictError(f"worker {worker_id} is off duty", code="worker_off_duty")
    incident.assignee_worker_id, incident.assignment_reason = worker_id, "dispatcher"
    return {"worker_id": worker_id, "assignment_reason": "dispatcher"}


def _self_handle(session, incident, data, now, limits, worker_id) -> dict[str, Any]:
    if worker_id is not None:
        incident.assignee_worker_id = worker_id
    return {"worker_id": worker_id}


def _escalate(session, incident, data, now, limits, _worker) -> dict[str, Any]:
    current = HANDLING_LEVELS.index(incident.handling_level)
    wanted = data.get("to_level")
    if wanted is None:
        if current + 1 >= len(HANDLING_LEVELS):
            raise ConflictError("the case is already at district level", code="cannot_escalate")
        wanted = HANDLING_LEVELS[current + 1]
    if wanted not in HANDLING_LEVELS or HANDLING_LEVELS.index(wanted) <= current:
        raise ConflictError(
            f"can only escalate upwards from {incident.handling_level}",
            code="cannot_escalate",
            levels=list(HANDLING_LEVELS[current + 1 :]),
        )
    incident.escalation_count += 1
    units = move_to_level(
        session=session, incident=incident, to_level=wanted, now=now, kind="escalated"
    )
    restart_running_step(
        session=session, incident=incident, limits=limits, now=now, mark="escalated_at"
    )
    moved = reassign_if_off_duty(session=session, incident=incident) or {}
    return {"from_level": HANDLING_LEVELS[current], "to_level": wanted, **units, **moved}


def _hand_down(session, incident, data, now, limits, instruction: str) -> dict[str, Any]:
    current = HANDLING_LEVELS.index(incident.handling_level)
    wanted = data.get("to_level") or (HANDLING_LEVELS[current - 1] if current > 1 else None)
    if wanted not in HANDLING_LEVELS[1:] or HANDLING_LEVELS.index(wanted) >= current:
        raise ConflictError(
            f"can only hand down from {incident.handling_level} to a lower unit",
            code="cannot_hand_down",
            levels=list(HANDLING_LEVELS[1:current]),
        )
    units = move_to_level(
        session=session,
        incident=incident,
        to_level=wanted,
        now=now,
        kind="handed_down",
        note=instruction,
    )
    restart_running_step(
        session=session, incident=incident, limits=limits, now=now, mark="handed_down_at"
    )
    return {"from_level": HANDLING_LEVELS[current], "to_level": wanted, **units}


def _supervise(session, incident, data, now, limits, note: str) -> dict[str, Any]:
    return supervise(session=session, incident=incident, now=now, note=note)


def _running(incident: Incident) -> tuple[str, dict[str, Any]]:
    step = STEP_OF_STATUS[incident.status]
    record = (incident.deadlines or {}).get(step)
    if not isinstance(record, dict):
        raise ConflictError("no clock runs for this case", code="no_deadline")
    return step, record


def _request_extension(session, incident, data, now, limits, _worker) -> dict[str, Any]:
    step, record = _running(incident)
    if record.get("extension_request"):
        raise ConflictError("an extension request is already pending", code="extension_pending")
    amount = data.get("amount", limits[step].amount)
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
        raise InvalidInputError("data.amount must be a positive number", code="invalid_amount")
    request = {"amount": float(amount), "clock": limits[step].clock, "at": now.isoformat()}
    incident.deadlines = {**incident.deadlines, step: {**record, "extension_request": request}}
    return {"step": step, **request}


def _decide_extension(approve: bool):
    def decide(session, incident, data, now, limits, _worker) -> dict[str, Any]:
        step, record = _running(incident)
        request = record.get("extension_request")
        if not request:
            raise ConflictError("no extension request is pending", code="no_extension_request")
        record = {k: v for k, v in record.items() if k != "extension_request"}
        deadlines = {**incident.deadlines, step: record}
        if not approve:
            incident.deadlines = deadlines
            return {"step": step, "approved": False}
        deadlines, due = extend_step(
            deadlines,
            step,
            now,
            Limit(float(request["amount"]), request["clock"]),
            calendar=work_calendar(session=session),
        )
        incident.deadlines, incident.due_at, incident.warned_at = deadlines, due, None
        return {"step": step, "approved": True, "due_at": due.isoformat()}

    return decide


def _evaluate(session, incident, data, now, limits, _worker) -> dict[str, Any]:
    score = data.get("satisfaction")
    if score is None:
        return {}
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInputError("data.satisfaction must be 1–5", code="invalid_satisfaction")
    return {"satisfaction": score}


_MOVES = {"hand_down": _hand_down, "supervise": _supervise}
"""Actions that move the case between units or mark it, given the event's reason."""
_SPECIAL = {
    "dispatch": _dispatch,
    "self_handle": _self_handle,
    "escalate": _escalate,
    "request_extension": _request_extension,
    "approve_extension": _decide_extension(True),
    "reject_extension": _decide_extension(False),
    "evaluate": _evaluate,
}
