"""Transfer (转办): a unit's dispatcher hands a case to one lead (主办) and any supporting (协办)
departments, which sign, start, return (退回, with a reason) or finish their parts.

The transfer sits inside the case's 7-step loop: transferring is the dispatch
(filed | returned | rework → dispatched); the lead's signing, starting and finishing
are the case's sign, start and handle (→ handled, then the unit checks and closes as
for any case); the lead's return sends the case back to the sender (→ returned) and
withdraws the supporting parts.  A supporting department's steps end only its own
part.  Every step locks the case first, then the part, bumps the case's version,
writes one `incident_events` row (the audit trail) and notices the other side; the
departments' time limits run on the district's working days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from grids.cases.access import Actor, can_see, in_queue_of
from grids.cases.reference import work_calendar
from grids.cases.views import CaseView
from grids.cases.workflow import apply_transition
from layers.core.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from layers.core.roles import DEPARTMENT_WORK, DISPATCH
from layers.tables.case_transfers import OPEN_TRANSFER, CaseTransfer
from layers.tables.clocks import deadline
from layers.tables.departments import Department, department_of_key
from layers.tables.incidents import Incident
from layers.tables.notices import notify

TRANSFER_FROM = frozenset({"filed", "returned", "rework"})
"""Case statuses a transfer starts from: it is the dispatch step of the loop."""
MAX_SUPPORT = 8


@dataclass(frozen=True)
class Step:
    """A department's step: the statuses of its part it starts from and leads to."""

    sources: frozenset[str]
    target: str
    case_action: str | None
    """The case's own action when the lead takes the step (None: the case's status stays)."""
    needs_reason: bool = False


STEPS: dict[str, Step] = {
    "sign": Step(frozenset({"sent"}), "signed", "sign"),
    "start": Step(frozenset({"signed"}), "in_progress", "start"),
    "return": Step(frozenset(OPEN_TRANSFER), "returned", "return", True),
    "finish": Step(frozenset({"in_progress"}), "finished", "handle", True),
}
CASE_TARGET = {"sign": "signed", "start": "in_progress", "return": "returned", "handle": "handled"}


@dataclass(frozen=True)
class TransferResult:
    """The case after the step and the parts it now has."""

    view: CaseView
    parts: list[CaseTransfer]


def _departments(session: Session, codes: list[str]) -> list[Department]:
    found = {
        d.code: d for d in session.scalars(select(Department).where(Department.code.in_(codes)))
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise NotFoundError(f"no department {missing[0]!r}", code="department_not_found")
    return [found[c] for c in codes]


def _locked_case(session: Session, incident_id: int, actor: Actor) -> Incident:
    incident = session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
    if incident is None or not can_see(session=session, incident=incident, actor=actor):
        raise NotFoundError(f"no case {incident_id}", code="incident_not_found")
    return incident


def _check_transfer(incident: Incident, lead: str, supports: list[str], instruction: str) -> None:
    if incident.status not in TRANSFER_FROM:
        raise ConflictError(
            f"cannot transfer a case that is {incident.status}",
            code="invalid_transition",
            case_status=incident.status,
            allowed=sorted(TRANSFER_FROM),
        )
    if not instruction.strip():
        raise InvalidInputError("a transfer needs an instruction", code="instruction_required")
    if lead in supports or len(set(supports)) != len(supports):
        raise InvalidInputError("each department takes one part", code="duplicate_department")
    if len(supports) > MAX_SUPPORT:
        raise InvalidInputError(f"at most {MAX_SUPPORT} supporting departments", code="too_many")


def transfer(
    *,
    session: Session,
    incident_id: int,
    lead: str,
    supports: list[str],
    instruction: str,
    actor: Actor,
    expected_version: int,
    now: datetime,
) -> TransferResult:
    """Transfer the case to `lead` (主办) and `supports` (协办) with an instruction."""
    now = now.astimezone(UTC)
    if actor.role not in DISPATCH:
        raise ForbiddenError(f"role {actor.role} may not transfer", code="action_not_allowed")
    incident = _locked_case(session, incident_id, actor)
    if not in_queue_of(session=session, incident=incident, actor=actor):
        raise ForbiddenError(f"case {incident_id} is not in your unit's queue", code="not_in_queue")
    if expected_version != incident.version:
        raise ConflictError(
            f"case {incident_id} changed: you saw version {expected_version}, "
            f"it is at {incident.version}",
            code="stale_version",
            current_version=incident.version,
        )
    _check_transfer(incident, lead, supports, instruction)
    parts = _send_parts(
        session, incident, _departments(session, [lead, *supports]), instruction, actor, now
    )
    incident.assignee_worker_id, incident.assignment_reason = None, None
    result = apply_transition(
        session, incident, "transfer", "dispatched", actor, instruction, {}, now
    )
    result.event.data = {
        **(result.event.data or {}),
        "lead": lead,
        "support": supports,
        "instruction": instruction.strip(),
    }
    session.flush()
    return TransferResult(result.view, parts)


def _send_parts(session, incident, departments, instruction, actor, now) -> list[CaseTransfer]:
    """One part per department (the first leads), each with its limits and a notice."""
    calendar = work_calendar(session=session)
    parts = []
    for n, dept in enumerate(departments):
        part = CaseTransfer(
            incident_id=incident.id,
            department_id=dept.id,
            part="lead" if n == 0 else "support",
            status="sent",
            instruction=instruction.strip(),
            from_unit_id=incident.unit_id,
            sent_by=actor.name,
            sent_at=now,
            sign_due_at=deadline(now, float(dept.sign_days), "working_days", calendar),
            due_at=deadline(now, float(dept.handle_days), "working_days", calendar),
        )
        session.add(part)
        parts.append(part)
        notify(
            session=session,
            incident_id=incident.id,
            kind="transferred",
            at=now,
            body=f"case {incident.id} transferred to you as {part.part}: {instruction.strip()}",
            department_id=dept.id,
            data={"part": part.part},
        )
    return parts


def _my_part(session: Session, transfer_id: int, actor: Actor) -> tuple[Incident, CaseTransfer]:
    incident_id = session.execute(
        text("SELECT incident_id FROM case_transfers WHERE id = :t"), {"t": transfer_id}
    ).scalar()
    department_id = department_of_key(session=session, key_id=actor.key_id)
    if incident_id is None:
        raise NotFoundError(f"no transfer {transfer_id}", code="transfer_not_found")
    incident = session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
    part = session.get(CaseTransfer, transfer_id, with_for_update=True, populate_existing=True)
    if incident is None or part is None or part.department_id != department_id:
        raise NotFoundError(f"no transfer {transfer_id}", code="transfer_not_found")
    return incident, part


def department_step(
    *,
    session: Session,
    transfer_id: int,
    action: str,
    actor: Actor,
    expected_version: int,
    reason: str | None = None,
    now: datetime,
) -> TransferResult:
    """Take a department's step on its part of a case (sign, start, return, finish)."""
    now = now.astimezone(UTC)
    step = STEPS.get(action)
    if step is None:
        raise InvalidInputError(f"{action!r} is not a department step", code="unknown_action")
    if actor.role not in DEPARTMENT_WORK:
        raise ForbiddenError(f"role {actor.role} may not {action}", code="action_not_allowed")
    incident, part = _my_part(session, transfer_id, actor)
    if expected_version != part.version:
        raise ConflictError(
            f"transfer {transfer_id} changed: you saw version {expected_version}, "
            f"it is at {part.version}",
            code="stale_version",
            current_version=part.version,
        )
    if part.status not in step.sources:
        raise ConflictError(
            f"cannot {action} a part that is {part.status}",
            code="invalid_transition",
            transfer_status=part.status,
            allowed=[a for a, s in STEPS.items() if part.status in s.sources],
        )
    if step.needs_reason and not (reason and reason.strip()):
        raise InvalidInputError(f"{action} needs a reason", code="reason_required")
    return _take(session, incident, part, action, step, actor, (reason or "").strip() or None, now)


def _take(session, incident, part, action, step, actor, reason, now) -> TransferResult:
    part.status, part.version = step.target, part.version + 1
    if action == "sign":
        part.signed_at = now
    if action in ("return", "finish"):
        part.ended_at, part.reason = now, reason
        part.on_time = now <= part.due_at if action == "finish" else None
        _tell_sender(session, incident, part, action, reason, now)
    lead_moves = part.part == "lead" and step.case_action is not None
    if lead_moves and action == "return":
        _withdraw_supports(session, incident, part, now)
    case_action = step.case_action if lead_moves else f"department_{action}"
    target = CASE_TARGET.get(step.case_action or "") if lead_moves else None
    result = apply_transition(session, incident, case_action, target, actor, reason, {}, now)
    result.event.data = {
        **(result.event.data or {}),
        "transfer_id": part.id,
        "department_id": part.department_id,
        "part": part.part,
        "department_step": action,
        **({"on_time": part.on_time} if action == "finish" else {}),
    }
    session.flush()
    parts = list(
        session.scalars(
            select(CaseTransfer)
            .where(CaseTransfer.incident_id == incident.id)
            .order_by(CaseTransfer.id)
        )
    )
    return TransferResult(result.view, parts)


def _tell_sender(session, incident, part, action, reason, now) -> None:
    if part.from_unit_id is None:
        return
    kind = "returned" if action == "return" else "finished"
    notify(
        session=session,
        incident_id=incident.id,
        kind=kind,
        at=now,
        body=f"case {incident.id}: the {part.part} department {kind} its part: {reason}",
        unit_id=part.from_unit_id,
        data={"transfer_id": part.id, "department_id": part.department_id, "reason": reason},
    )


def _withdraw_supports(session: Session, incident: Incident, lead: CaseTransfer, now) -> None:
    """The lead returned the case: the supporting parts end with it (the sender decides anew)."""
    session.execute(
        update(CaseTransfer)
        .where(
            CaseTransfer.incident_id == incident.id,
            CaseTransfer.id != lead.id,
            CaseTransfer.status.in_(OPEN_TRANSFER),
        )
        .values(
            status="withdrawn",
            ended_at=now,
            reason="the lead returned the case",
            version=CaseTransfer.version + 1,
        )
        .execution_options(synchronize_session=False)
    )


def parts_of(*, session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The departments' parts of a case, oldest first (for the case page and the tests)."""
    rows = session.execute(
        text(
            "SELECT t.id, t.version, d.code AS department, d.name AS department_name, t.part, "
            "t.status, t.instruction, t.sent_at, t.sign_due_at, t.due_at, t.signed_at, "
            "t.ended_at, t.reason, t.on_time FROM case_transfers t "
            "JOIN departments d ON d.id = t.department_id WHERE t.incident_id = :i ORDER BY t.id"
        ),
        {"i": incident_id},
    ).mappings()
    return [dict(r) for r in rows]
