"""Cases: report (`POST /incidents`), read, audit trail, transitions, nearest workers."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from geo_api.auth import EVERYONE, Principal, Role, allow
from geo_api.credentials import client_fingerprint
from geo_api.deps import NowDep, SessionDep, get_db
from geo_api.fast_auth import allow_fast
from geo_api.intake_batcher import Report, result_of
from geo_api.schemas.case_shapes import (
    actor_of,
    case_out,
    etag,
    parse_if_match,
    submitted_reporter,
    worker_out,
)
from geo_api.schemas.cases import EventOut, IncidentIn, IncidentOut, NearestWorkerOut, TransitionIn
from grids.cases.access import Actor
from grids.cases.dispatch import nearest_workers
from grids.cases.intake import IntakeResult, NewCase, report_case
from grids.cases.intake_statement import fits_one_statement
from grids.cases.views import case_events, get_case
from grids.cases.workflow import transition
from layers.core.errors import PreconditionRequiredError

router = APIRouter(tags=["incidents"])

CaseId = Annotated[int, Path(ge=1, le=2**62, description="The incident id.")]
CaseToken = Annotated[
    str | None,
    Header(alias="X-Case-Token", description="The token handed to the reporter (residents)."),
]


@router.post("/incidents", status_code=201, response_model=IncidentOut, summary="Report a case")
async def report(
    body: IncidentIn,
    request: Request,
    now: NowDep,
    principal: Annotated[Principal, allow_fast(*EVERYONE)],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="Retry-safe request key."),
    ] = None,
) -> JSONResponse:
    """Locate, assign and time a reported problem; answers its id, chain, assignee, deadline.

    A repeat with the same ``Idempotency-Key`` and body answers the same case
    (header ``Idempotent-Replayed: true``); the same key with another body is
    422 ``idempotency_key_reused``.  Without an API key the ``Idempotency-Key``
    is scoped to your client (address and user agent), so another resident's
    request never collides with yours.  ``possible_duplicates`` lists cases of
    the same category within 50 m in the previous 24 h.  Keep ``case_token``: it is
    how a resident without a key looks the case up (``X-Case-Token``).
    """
    case, actor = body.to_new_case(), actor_of(principal)
    tolerance_m = request.app.state.settings.cases.locate_tolerance_m
    client = client_fingerprint(request)
    result = None
    if fits_one_statement(case):  # group commit with the process's other reports
        report = Report(case, actor, idempotency_key, tolerance_m, now, client)
        done = request.app.state.intake_batcher.submit(report)
        result = result_of(await asyncio.wrap_future(done))
    if result is None:
        result = await run_in_threadpool(
            _ordinary, request, case, actor, idempotency_key, tolerance_m, now, client
        )
    content = case_out(
        result.incident,
        result.location,
        result.assignee,
        principal,
        duplicates=result.duplicates,
        token=result.token,
        reporter=submitted_reporter(result.incident, principal),
    )
    return JSONResponse(content, status_code=201, headers=_created_headers(result))


def _ordinary(
    request: Request,
    case: NewCase,
    actor: Actor,
    key: str | None,
    tolerance_m: float | None,
    now: datetime,
    client: str,
) -> IntakeResult:
    """`report_case` in its own transaction: what the batch leaves (`geo_api.intake_batcher`).

    Reports with an address to geocode or an external id, retries the batch could
    not replay, refused requests with a key (so a reused key with another body
    answers 422 ``idempotency_key_reused`` first, as always), a grid not loaded yet.
    """
    with contextmanager(get_db)(request) as session:
        result = report_case(
            session=session,
            case=case,
            actor=actor,
            idempotency_key=key,
            tolerance_m=tolerance_m,
            client=client,
            now=now,
        )
        session.commit()
        return result


def _created_headers(result: IntakeResult) -> dict[str, str]:
    """Where the new case is, its version, and whether this answer is a replay."""
    headers = {
        "Location": f"/incidents/{result.incident.id}",
        "ETag": etag(result.incident.version),
    }
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    response_model_exclude_unset=True,
    summary="One case",
)
def read(
    incident_id: CaseId,
    session: SessionDep,
    response: Response,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: CaseToken = None,
) -> dict[str, Any]:
    """A case with its chain; residents need its case token, grid workers their cells.

    The reporter's name and phone are in clear for dispatchers, admins and the assigned
    grid worker of a call-back category (each such read is audited), masked for other
    staff (``张*``, ``138****5678``), absent for residents.
    """
    view = get_case(
        session=session, incident_id=incident_id, actor=actor_of(principal), token=token, now=now
    )
    session.commit()  # the audit entry of a clear read
    response.headers["ETag"] = etag(view.incident.version)
    return case_out(view.incident, view.location, view.assignee, principal, reporter=view.reporter)


@router.get(
    "/incidents/{incident_id}/events",
    response_model=list[EventOut],
    summary="A case's audit trail",
)
def events(
    incident_id: CaseId,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: CaseToken = None,
) -> list[dict[str, Any]]:
    """Every transition, oldest first; residents do not see who acted."""
    rows = case_events(
        session=session, incident_id=incident_id, actor=actor_of(principal), token=token
    )
    staff = principal.is_staff
    return [
        {
            "id": e.id,
            "at": e.at,
            "action": e.action,
            "role": e.role,
            "actor": e.actor if staff else None,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "reason": e.reason,
            "data": e.data if staff else None,
        }
        for e in rows
    ]


@router.post(
    "/incidents/{incident_id}/transitions",
    response_model=IncidentOut,
    response_model_exclude_unset=True,
    summary="Move a case through the closed loop",
)
def act(
    incident_id: CaseId,
    body: TransitionIn,
    session: SessionDep,
    response: Response,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.GRID_WORKER, Role.DISPATCHER, Role.ADMIN)],
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> dict[str, Any]:
    """Take an action with the version you saw (``If-Match: "3"`` or ``version``).

    403 when your role may not take the action, 409 ``stale_version`` when the
    case changed since, 409 ``invalid_transition`` (with ``allowed``) when the
    case's status does not permit it, 428 without a version.
    """
    version = parse_if_match(if_match) or body.version
    if version is None:
        raise PreconditionRequiredError(
            "send the version you saw: If-Match or `version`", code="version_required"
        )
    result = transition(
        session=session,
        incident_id=incident_id,
        action=body.action,
        actor=actor_of(principal),
        expected_version=version,
        reason=body.reason,
        data=body.data,
        now=now,
    )
    session.commit()
    view = result.view
    response.headers["ETag"] = etag(view.incident.version)
    return case_out(view.incident, view.location, view.assignee, principal, reporter=view.reporter)


@router.get(
    "/incidents/{incident_id}/nearest-workers",
    response_model=list[NearestWorkerOut],
    summary="On-duty workers nearest to a case",
)
def nearest(
    incident_id: CaseId,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    level: Annotated[int, Query(ge=1, le=3, description="Worker level.")] = 1,
) -> list[dict[str, Any]]:
    """Nearest first (PostGIS KNN), with distances in metres; stale positions left out.

    A position older than ``WANGGE_POSITION_STALE_MINUTES`` (when set) does not count.
    """
    stale = request.app.state.settings.cases.position_stale_minutes
    fresh = now - timedelta(minutes=stale) if stale else None
    found = nearest_workers(
        session=session, incident_id=incident_id, k=k, level=level, fresh_since=fresh
    )
    return [
        {
            **(worker_out(w.worker, staff=True) or {}),
            "distance_m": w.distance_m,
            "cell_code": w.cell_code,
        }
        for w in found
    ]
