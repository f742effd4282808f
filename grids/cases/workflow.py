"""The closed loop of a case: which action moves which status to which, and who may take it.

reported → accepted | void → filed → dispatched → signed → in_progress → handled →
checking → closed → evaluated, with the branches of domain.md: checking → rework
→ dispatched; dispatched|signed → returned → filed (re-dispatched); parked (挂账)
and back; self_handled (a grid worker fixes it on the spot) → checking; manual
escalation; extension requests.  Every transition takes the version the caller
saw (optimistic locking), restarts the step clock when the step changes, and
writes one `incident_events` row in the same transaction.

Errors, in this order: 404 (no such case, or not visible to the caller), 422
(not an action), 403 (the role may not take it), 409 ``stale_version``, 409
``invalid_transition`` (with the actions allowed now), 400 (missing reason or data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from grids.cases.access import Actor, can_see, in_queue_of
from grids.cases.deadlines import STEP_OF_STATUS, Limit, limits_for
from grids.cases.transition_effects import apply_effects
from grids.cases.views import CaseView, view_of
from layers.core.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnprocessableError,
)
from layers.core.roles import DISPATCH, FIELD_WORK, SYSTEM, Role
from layers.tables.incidents import OPEN_STATUSES, Incident, IncidentEvent

HANDLING = ("signed", "in_progress", "rework")


@dataclass(frozen=True)
class Rule:
    """An action: the statuses it starts from, the status it leads to (None: stays), who."""

    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]
    needs_reason: bool = False


def _rule(sources, target, roles, needs_reason=False) -> Rule:
    return Rule(frozenset(sources), target, frozenset(roles), needs_reason)


RULES: dict[str, Rule] = {
    "accept": _rule({"reported"}, "accepted", DISPATCH),
    "void": _rule({"reported", "accepted"}, "void", DISPATCH, True),
    "file": _rule({"accepted"}, "filed", DISPATCH),
    "dispatch": _rule({"filed", "returned", "rework"}, "dispatched", DISPATCH),
    "sign": _rule({"dispatched"}, "signed", FIELD_WORK),
    "return": _rule({"dispatched", "signed"}, "returned", FIELD_WORK, True),
    "start": _rule({"signed"}, "in_progress", FIELD_WORK),
    "handle": _rule({"in_progress"}, "handled", FIELD_WORK),
    "self_handle": _rule({"reported"}, "self_handled", FIELD_WORK),
    "check": _rule({"handled", "self_handled"}, "checking", DISPATCH),
    "close": _rule({"checking"}, "closed", DISPATCH),
    "rework": _rule({"checking"}, "rework", DISPATCH, True),
    "evaluate": _rule({"closed"}, "evaluated", DISPATCH),
    "park": _rule({"accepted", "filed"}, "parked", DISPATCH, True),
    "resume": _rule({"parked"}, "filed", DISPATCH),
    "escalate": _rule(set(OPEN_STATUSES) - {"parked"}, None, DISPATCH | {SYSTEM}),
    "hand_down": _rule(set(OPEN_STATUSES) - {"parked"}, None, DISPATCH, True),
    "supervise": _rule(OPEN_STATUSES, None, DISPATCH, True),
    "request_extension": _rule(HANDLING, None, FIELD_WORK, True),
    "approve_extension": _rule(HANDLING, None, DISPATCH),
    "reject_extension": _rule(HANDLING, None, DISPATCH, True),
}
"""Every action a caller can take; ``report`` is the creation (POST /incidents)."""
ACTIONS = ("report", *RULES)


def allowed_actions(status: str, role: str) -> list[str]:
    """The actions `role` may take on a case in `status`, in the loop's order."""
    return [a for a, r in RULES.items() if status in r.sources and role in r.roles]


@dataclass(frozen=True)
class TransitionResult:
    """The case after the transition (with chain and assignee) and the event recording it."""

    view: CaseView
    event: IncidentEvent

    @property
    def incident(self) -> Incident:
        """The case as it is now."""
        return self.view.incident


def transition(
    *,
    session: Session,
    incident_id: int,
    action: str,
    actor: Actor,
    expected_version: int,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    token: str | None = None,
    now: datetime,
) -> TransitionResult:
    """Take `action` on the case, if the role may, the version matches and the loop allows."""
    incident = session.get(Incident, incident_id, with_for_update=True)
    if incident is None or not can_see(
        session=session, incident=incident, actor=actor, token=token
    ):
        raise NotFoundError(f"no case {incident_id}", code="incident_not_found")
    rule = RULES.get(action)
    if rule is None:
        raise UnprocessableError(
            f"{action!r} is not an action on a case", code="unknown_action", actions=list(RULES)
        )
    if actor.role not in rule.roles:
        raise ForbiddenError(
            f"role {actor.role} may not {action}; allowed: {', '.join(sorted(rule.roles))}",
            code="action_not_allowed",
        )
    if actor.role == Role.DISPATCHER and not in_queue_of(
        session=session, incident=incident, actor=actor
    ):
        raise ForbiddenError(f"case {incident_id} is not in your unit's queue", code="not_in_queue")
    if expected_version != incident.version:
        raise ConflictError(
            f"case {incident_id} changed: you saw version {expected_version}, "
            f"it is at {incident.version}",
            code="stale_version",
            current_version=incident.version,
        )
    if incident.status not in rule.sources:
        raise ConflictError(
            f"cannot {action} a case that is {incident.status}",
            code="invalid_transition",
            case_status=incident.status,
            allowed=allowed_actions(incident.status, actor.role),
        )
    if rule.needs_reason and not (reason and reason.strip()):
        raise InvalidInputError(f"{action} needs a reason", code="reason_required")
    return apply_transition(session, incident, action, rule.target, actor, reason, data or {}, now)


def apply_transition(
    session: Session,
    incident: Incident,
    action: str,
    target: str | None,
    actor: Actor,
    reason: str | None,
    data: dict[str, Any],
    now: datetime,
) -> TransitionResult:
    """Take a checked action on a locked case: effects, version, one event (no rule checks).

    `transition` calls it after its checks; the departments' steps (`grids.safety`)
    call it for the case's own status moves, which their transfer rows decide.
    """
    now = now.astimezone(UTC)
    before = incident.status
    limits: dict[str, Limit] = limits_for(
        session=session, category_code=incident.category_code, urgency=incident.urgency
    )
    event_data = apply_effects(
        session=session,
        incident=incident,
        action=action,
        target=target or before,
        step_before=STEP_OF_STATUS.get(before),
        limits=limits,
        data=data,
        now=now,
        actor_worker_id=actor.worker_id,
        reason=reason,
    )
    incident.version += 1
    incident.updated_at = now
    event = IncidentEvent(
        incident_id=incident.id,
        at=now,
        actor=actor.name,
        role=actor.role,
        action=action,
        from_status=before,
        to_status=incident.status,
        reason=reason,
        data=event_data or None,
    )
    session.add(event)
    session.flush()
    view = view_of(session=session, incident=incident, actor=actor, now=now, face="rest.transition")
    return TransitionResult(view, event)
