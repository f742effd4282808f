"""The reporter rates their closed case (评价): 1–5 with a comment, once, audited.

Before this only a dispatcher could enter a satisfaction (the `evaluate` action).
Now the reporter — whoever holds the case token, or the resident key that filed
the case — rates it after closure.  A closed case moves to `evaluated` with an
`evaluate` event by the resident (so the case page and the board hear of it);
a case a dispatcher already evaluated keeps its status and gains the rating.
Either way the rating is written to `audit_log` in the same transaction.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from grids.cases.access import Actor, token_hash
from layers.core.errors import ConflictError, InvalidInputError, NotFoundError
from layers.tables.audit import record
from layers.tables.case_ratings import CaseRating
from layers.tables.incidents import Incident, IncidentEvent

RATEABLE = ("closed", "evaluated")
MAX_COMMENT = 500


@dataclass(frozen=True)
class Rating:
    """A case's rating as stored."""

    incident_id: int
    score: int
    comment: str | None
    rated_at: datetime
    status: str


def _is_reporter(incident: Incident, actor: Actor, token: str | None) -> bool:
    if token and incident.access_token_hash:
        return hmac.compare_digest(token_hash(token), incident.access_token_hash)
    return actor.key_id is not None and actor.key_id == incident.reporter_key_id


def rate_case(
    *,
    session: Session,
    incident_id: int,
    actor: Actor,
    token: str | None,
    score: int,
    comment: str | None,
    now: datetime,
) -> Rating:
    """Record the reporter's rating; 404 for anyone else, 409 before closure or a second time."""
    now = now.astimezone(UTC)
    incident = session.get(Incident, incident_id, with_for_update=True)
    if incident is None or not _is_reporter(incident, actor, token):
        raise NotFoundError(f"no case {incident_id}", code="incident_not_found")
    if not 1 <= score <= 5:
        raise InvalidInputError("score must be 1–5", code="invalid_satisfaction")
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    if incident.status not in RATEABLE:
        raise ConflictError(
            f"a case is rated after closure; this one is {incident.status}",
            code="not_closed",
            case_status=incident.status,
        )
    if session.get(CaseRating, incident_id) is not None:
        raise ConflictError(f"case {incident_id} is rated already", code="already_rated")
    session.add(
        CaseRating(
            incident_id=incident_id, score=score, comment=comment, rated_at=now, rated_by=actor.name
        )
    )
    if incident.status == "closed":
        incident.status = "evaluated"
        incident.version += 1
        incident.updated_at = now
        session.add(
            IncidentEvent(
                incident_id=incident_id,
                at=now,
                actor=actor.name,
                role=actor.role,
                action="evaluate",
                from_status="closed",
                to_status="evaluated",
                data={"satisfaction": score, "by": "reporter"},
            )
        )
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="rate",
        entity="incident",
        entity_id=incident_id,
        data={"score": score, "comment": comment},
        at=now,
    )
    session.flush()
    return Rating(incident_id, score, comment, now, incident.status)


def rating_of(*, session: Session, incident_id: int) -> CaseRating | None:
    """The case's rating, if the reporter gave one (the caller checked they may see the case)."""
    return session.get(CaseRating, incident_id)
