"""Case intake: locate, assign, time and write a reported problem, exactly once.

One call is one transaction: the incident, its ``report`` event and the
idempotency record are written together or not at all.  The case is routed by
the live grid under its share lock (`grids.grid.live_grid`), so a concurrent
publish either sees the committed case and moves it, or has committed first
and the case is located in the new grid.  With an
`Idempotency-Key` (scoped to the caller's API key, or to the client of a
caller without one: `idempotency_scope`) a repeated request with the same body
answers the case the first one created; the same key with another body is
refused (422 ``idempotency_key_reused``).  Concurrent retries serialise on the key's unique
index, so nothing is lost and nothing doubled.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grids.base_data.geocode import geocode
from grids.cases.access import Actor, token_hash
from grids.cases.assign import Assignment, WorkerContact, assignment_for, worker_contact
from grids.cases.deadlines import Limit, start_step
from grids.cases.reference import reference
from grids.cases.views import location_of_incident
from grids.grid.live_grid import hold_live_grid
from grids.grid.locate import Location, locate_one
from layers.core.errors import ConflictError, InvalidInputError, UnprocessableError
from layers.tables.incidents import Incident, IncidentEvent

DUPLICATE_RADIUS_M = 50.0
ADDRESS_MIN_SCORE = 0.6
"""The least geocode score an address needs to stand for the case's point."""
DUPLICATE_HOURS = 24


@dataclass(frozen=True)
class NewCase:
    """A reported problem as the caller gave it (coordinates in `crs`)."""

    lon: float | None
    lat: float | None
    crs: str
    category_code: str
    channel_code: str
    description: str
    address: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    external_id: str | None = None
    urgency: str | None = None
    located_by: dict[str, Any] | None = None
    """How the point was found when the caller sent an address instead (``method: address``)."""

    def fingerprint(self) -> str:
        """SHA-256 of the canonical request, to recognise a retry."""
        body = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class IntakeResult:
    """The case, where it is, who has it, likely duplicates, and the reporter's case token."""

    incident: Incident
    location: Location
    assignee: WorkerContact | None
    duplicates: list[int]
    token: str | None
    replayed: bool = False


def report_case(
    *,
    session: Session,
    case: NewCase,
    actor: Actor,
    idempotency_key: str | None = None,
    tolerance_m: float | None = None,
    now: datetime,
    client: str | None = None,
) -> IntakeResult:
    """Write a new case (or answer the one an earlier identical request wrote).

    `client` fingerprints the caller's client (address and user agent); it
    scopes the `Idempotency-Key` of callers without a key (`idempotency_scope`).
    """
    now = now.astimezone(UTC)
    if case.lon is None or case.lat is None:
        case = at_address(session=session, case=case, tolerance_m=tolerance_m)
    scope = idempotency_scope(actor, client)
    if idempotency_key is not None:
        earlier = _claim_key(session, scope, idempotency_key, case.fingerprint())
        if earlier is not None:
            return earlier
    urgency = check_references(session, case)
    # Routed by the live grid and kept still until commit: a publish waits for us
    # (and moves our case if it closes its cell), or we wait for it and use its grid.
    version = hold_live_grid(session=session)
    assert case.lon is not None and case.lat is not None  # at_address gave a point
    location = locate_one(
        session=session,
        lon=case.lon,
        lat=case.lat,
        crs=case.crs,
        tolerance_m=tolerance_m,
        version=version,
    )
    token = secrets.token_urlsafe(24)
    assignment = assignment_for(session=session, chain=location)
    assignee = worker_contact(session=session, worker_id=assignment.worker_id)
    incident = _insert(
        session, case, actor, location, urgency, token, now, assignee, assignment.reason
    )
    session.add(_report_event(incident, case, actor, location, assignment, now))
    if idempotency_key is not None:
        session.execute(
            text(
                "UPDATE idempotency_keys SET incident_id = :i, case_token = :t "
                "WHERE scope = :s AND key = :k"
            ),
            {"i": incident.id, "t": token, "s": scope, "k": idempotency_key},
        )
    session.flush()
    duplicates = find_duplicates(
        session=session, incident=incident, where=(location.lon, location.lat)
    )
    return IntakeResult(incident, location, assignee, duplicates, token)


def _report_event(
    incident: Incident,
    case: NewCase,
    actor: Actor,
    location: Location,
    assignment: Assignment,
    now: datetime,
) -> IncidentEvent:
    """The case's first event: who reported it, through which channel, how it was routed."""
    return IncidentEvent(
        incident_id=incident.id,
        at=now,
        actor=actor.name,
        role=actor.role,
        action="report",
        from_status=None,
        to_status="reported",
        data={
            "channel": case.channel_code,
            "locate_method": location.method,
            **({"located_by": case.located_by} if case.located_by else {}),
            **assignment.event_data(),
        },
    )


def at_address(*, session: Session, case: NewCase, tolerance_m: float | None) -> NewCase:
    """The case at the entrance of the best standard address its `address` matches.

    400 ``missing_location`` without an address; 422 ``address_not_found`` when no
    standard address matches it well enough (`ADDRESS_MIN_SCORE`).
    """
    if not case.address or not case.address.strip():
        raise InvalidInputError("send a location or an address", code="missing_location")
    hits = geocode(session=session, q=case.address, limit=1, tolerance_m=tolerance_m)
    if not hits or hits[0].score < ADDRESS_MIN_SCORE:
        raise UnprocessableError(
            "the address matches no standard address; send a point", code="address_not_found"
        )
    hit = hits[0]
    located_by = {
        "method": "address",
        "address_id": hit.address_id,
        "full_text": hit.full_text,
        "match": hit.method,
        "score": hit.score,
    }
    return replace(case, lon=hit.lon, lat=hit.lat, crs="wgs84", located_by=located_by)


def idempotency_scope(actor: Actor, client: str | None) -> str:
    """Whose `Idempotency-Key`s a request shares: its API key's, or its client's.

    A caller with a key has one scope.  Callers without a key are told apart by
    `client`, a fingerprint of the client (address and user agent): another
    resident reusing the same `Idempotency-Key` from another client files their
    own case and never receives the first reporter's case or token.  Inside one
    scope the stored body hash decides: the same body is a retry (replayed),
    another body is refused (422), as for a keyed caller.
    """
    if actor.key_id is not None:
        return f"key:{actor.key_id}"
    digest = hashlib.sha256((client or "").encode("utf-8", "surrogatepass")).hexdigest()
    return f"anon:{digest}"


def _claim_key(session: Session, scope: str, key: str, fingerprint: str) -> IntakeResult | None:
    """Take the key for this request, or return what the request that took it wrote."""
    claimed = session.execute(
        text(
            "INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES (:s, :k, :f) "
            "ON CONFLICT (scope, key) DO NOTHING RETURNING id"
        ),
        {"s": scope, "k": key, "f": fingerprint},
    ).first()
    if claimed is not None:
        return None
    row = session.execute(
        text(
            "SELECT fingerprint, incident_id, case_token FROM idempotency_keys "
            "WHERE scope = :s AND key = :k"
        ),
        {"s": scope, "k": key},
    ).one()
    if row.fingerprint != fingerprint:
        raise UnprocessableError(
            "this Idempotency-Key was used with a different request body",
            code="idempotency_key_reused",
        )
    incident = session.get(Incident, row.incident_id) if row.incident_id else None
    if incident is None:
        raise ConflictError("the first request with this key did not finish", code="key_in_use")
    return IntakeResult(
        incident,
        location_of_incident(session=session, incident=incident),
        worker_contact(session=session, worker_id=incident.assignee_worker_id),
        find_duplicates(session=session, incident=incident),
        row.case_token,
        replayed=True,
    )


def check_references(session: Session, case: NewCase) -> str:
    """The urgency to use; 422 for an unknown category or channel, 409 for a known external id."""
    ref = reference(session=session)
    urgency = ref.urgency.get(case.category_code)
    if urgency is None:
        raise UnprocessableError(
            f"unknown category {case.category_code!r}", code="unknown_category"
        )
    if case.channel_code not in ref.channels:
        raise UnprocessableError(f"unknown channel {case.channel_code!r}", code="unknown_channel")
    if case.external_id is not None:
        existing = session.execute(
            text("SELECT id FROM incidents WHERE external_id = :e"), {"e": case.external_id}
        ).scalar()
        if existing is not None:
            raise ConflictError(
                f"a case with external id {case.external_id!r} exists",
                code="duplicate_external_id",
                incident_id=existing,
            )
    return case.urgency or urgency


def first_deadlines(
    session: Session, category: str, urgency: str, now: datetime
) -> tuple[dict[str, Any], datetime | None]:
    """A new case's SLA clocks (the ``accept`` step started now) and its ``due_at``."""
    ref = reference(session=session)
    steps = ref.limits.get((category, urgency), {})
    limits = {step: Limit(amount, clock) for step, (amount, clock) in steps.items()}
    return start_step({}, "accept", now, limits, calendar=ref.calendar)


def _insert(
    session, case: NewCase, actor: Actor, location: Location, urgency, token, now, who, reason
):
    deadlines, due = first_deadlines(session, case.category_code, urgency, now)
    incident = Incident(
        external_id=case.external_id,
        category_code=case.category_code,
        channel_code=case.channel_code,
        status="reported",
        urgency=urgency,
        description=case.description,
        address=case.address,
        reporter_name=case.reporter_name,
        reporter_phone=case.reporter_phone,
        geom=f"SRID=4326;POINT({location.lon!r} {location.lat!r})",
        reported_crs=case.crs,
        reported_lon=case.lon,
        reported_lat=case.lat,
        revision_id=location.revision_id,
        l1_cell_id=location.l1_id,
        l2_cell_id=location.l2_id,
        l3_cell_id=location.l3_id,
        community_id=location.community_id,
        street_id=location.street_id,
        locate_method=location.method,
        assignee_worker_id=who.id if who else None,
        assignment_reason=reason,
        due_at=due,
        deadlines=deadlines,
        created_at=now,
        updated_at=now,
        reporter_key_id=actor.key_id,
        access_token_hash=token_hash(token),
    )
    session.add(incident)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the external id first
        raise ConflictError(
            f"a case with external id {case.external_id!r} exists", code="duplicate_external_id"
        ) from exc
    return incident


def find_duplicates(
    *, session: Session, incident: Incident, where: tuple[float, float] | None = None
) -> list[int]:
    """Likely duplicates: same category within 50 m and the 24 h before it, not void."""
    x, y = (
        where
        or session.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = :id"), {"id": incident.id}
        ).one()
    )
    return list(
        session.execute(
            text(
                "SELECT id FROM incidents WHERE id <> :id AND category_code = :c "
                "AND status <> 'void' "
                "AND created_at BETWEEN :t - make_interval(hours => :h) AND :t "
                "AND ST_DWithin(geom::geography, "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :r) "
                "ORDER BY created_at DESC LIMIT 20"
            ),
            {
                "id": incident.id,
                "c": incident.category_code,
                "t": incident.created_at,
                "h": DUPLICATE_HOURS,
                "x": x,
                "y": y,
                "r": DUPLICATE_RADIUS_M,
            },
        ).scalars()
    )
