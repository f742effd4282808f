"""Open311 GeoReport v2 under `/open311/v2`, every resource in `.json` and `.xml`.

Public: services, service definitions, requests and tokens answer anyone.
Requests follow the case access rule: a caller's own cases (their role's scope:
all for dispatchers, admins and planners, their cells for a grid worker) in
full, other cases only in a public category and channel, generalised (no
description or address, the point rounded to `WANGGE_OPEN311_PUBLIC_PRECISION_M`),
and no reporter data for anyone.  POST requests creates a case through the configured
channel (default ``resident_app``); an ``api_key`` (form or query), like a
Bearer key, marks a staff or resident key as the reporter.  Errors are the
specification's error list in the requested format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import Response

from geo_api.auth import EVERYONE, Principal, PrincipalDep, allow, principal_of
from geo_api.credentials import check_key, client_fingerprint
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.schemas import media
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.media import ok
from geo_api.schemas.open311 import FORMATS, render_error, render_list, render_object
from geo_api.settings import Settings
from grids.cases.intake import IntakeResult
from grids.cases.open311 import (
    Open311Post,
    RequestQuery,
    find_requests,
    post_request,
    request_by_token,
    service_definition,
    services,
)
from layers.core.errors import (
    InvalidInputError,
    NotAuthenticatedError,
    TooManyRequestsError,
    WanggeError,
)
from layers.core.moments import parse_moment
from layers.tables.clocks import LOCAL_TZ

DOCUMENT = ok(media.OPEN311, "The document, in JSON or XML")
"""Every Open311 answer: the spec's JSON or XML (`.json` / `.xml`)."""
router = APIRouter(prefix="/open311/v2", tags=["open311"])
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-25T00:00:00+08:00"
JURISDICTION = "510108"

Jurisdiction = Annotated[str | None, Query(description="Optional; only 510108 is served.")]


def _answer(fmt: str, jurisdiction: str | None, produce: Callable[[], Response]) -> Response:
    if fmt not in FORMATS:
        return render_error("json", 400, "the format must be .json or .xml")
    if jurisdiction not in (None, "", JURISDICTION):
        return render_error(fmt, 404, f"unknown jurisdiction_id {jurisdiction!r}")
    try:
        return produce()
    except WanggeError as exc:
        return render_error(fmt, exc.status_code, exc.message)


@router.get(
    "/discovery.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    dependencies=[allow(*EVERYONE)],
    summary="Discovery",
)
def discovery(fmt: str, settings: SettingsDep) -> Response:
    """Where the endpoint is, which specification and formats it speaks."""
    doc = {
        "changeset": CHANGESET,
        "contact": "成华区网格化服务管理中心 (96966)",
        "key_service": "API keys are issued by the district centre",
        "endpoints": [
            {
                "specification": SPEC,
                "url": f"{settings.base_url()}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(fmt, None, lambda: render_object(fmt, "discovery", doc))


@router.get(
    "/services.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    dependencies=[allow(*EVERYONE)],
    summary="Service list",
)
def service_list(fmt: str, session: SessionDep, jurisdiction_id: Jurisdiction = None) -> Response:
    """Every case category as a service."""
    return _answer(
        fmt,
        jurisdiction_id,
        lambda: render_list(fmt, "services", "service", services(session=session)),
    )


@router.get(
    "/services/{service_code}.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    dependencies=[allow(*EVERYONE)],
    summary="Service definition",
)
def service_def(
    service_code: str, fmt: str, session: SessionDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    """A service's extra attributes (none)."""
    return _answer(
        fmt,
        jurisdiction_id,
        lambda: render_object(
            fmt,
            "service_definition",
            service_definition(session=session, service_code=service_code),
        ),
    )


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_moment(value.strip().replace(" ", "+"), default_tz=LOCAL_TZ)
    except ValueError as exc:
        raise InvalidInputError(
            f"{name} must be a W3C date-time ({exc})", code="invalid_date"
        ) from None


def _csv(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


def _query(ids, codes, start, end, status) -> RequestQuery:
    statuses = _csv(status)
    if statuses and not set(statuses) <= {"open", "closed"}:
        raise InvalidInputError("status must be open and/or closed", code="invalid_status")
    id_list = _csv(ids)
    if id_list and not all(i.isdigit() and len(i) < 19 for i in id_list):
        raise InvalidInputError("service_request_id must be numbers", code="invalid_id")
    return RequestQuery(
        ids=[int(i) for i in id_list] if id_list else None,
        codes=_csv(codes),
        start=_moment(start, "start_date"),
        end=_moment(end, "end_date"),
        statuses=statuses,
    )


def _find(
    session, settings: Settings, principal: Principal, now: datetime, query: RequestQuery
) -> list[dict]:
    return find_requests(
        session=session,
        query=query,
        actor=actor_of(principal),
        now=now,
        precision_m=settings.cases.open311_public_precision_m,
        metric_srid=settings.metric_srid,
    )


@router.get(
    "/requests.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    dependencies=[allow(*EVERYONE)],
    summary="Service requests",
)
def get_requests(
    fmt: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Requests newest first (at most 1,000; 90 days by default), as the caller may see them.

    Without a key: public categories only, generalised (no description or address, the
    point rounded); a staff key adds its role's cases in full.  Never reporter data.
    """

    def produce() -> Response:
        query = _query(service_request_id, service_code, start_date, end_date, status)
        found = _find(session, settings, principal, now, query)
        return render_list(fmt, "service_requests", "request", found)

    return _answer(fmt, jurisdiction_id, produce)


@router.get(
    "/requests/{service_request_id}.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    dependencies=[allow(*EVERYONE)],
    summary="One service request",
)
def get_request(
    service_request_id: str,
    fmt: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """One request as a one-element list; 404 when the caller may not see it (as `/incidents`)."""

    def produce() -> Response:
        query = _query(service_request_id, None, None, None, None)
        found = _find(session, settings, principal, now, query)
        if not found:
            return render_error(fmt, 404, f"no service request {service_request_id}")
        return render_list(fmt, "service_requests", "request", found)

    return _answer(fmt, jurisdiction_id, produce)


@router.get(
    "/tokens/{token}.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    dependencies=[allow(*EVERYONE)],
    summary="Request id of a token",
)
def get_token(token: str, fmt: str, session: SessionDep, jurisdiction_id: Jurisdiction = None):
    """The service_request_id a token (from POST requests) stands for."""
    return _answer(
        fmt,
        jurisdiction_id,
        lambda: render_list(
            fmt, "service_requests", "request", [request_by_token(session=session, token=token)]
        ),
    )


def _caller(request: Request, session, principal: Principal, api_key: str | None) -> Principal:
    """The reporter: the `api_key` field's owner if one is sent (throttled like any key)."""
    if not api_key:
        return principal
    return principal_of(check_key(request, session, api_key.strip(), via="open311"))


def _float(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInputError(f"{name} must be a number", code="invalid_coordinates") from None


@router.post(
    "/requests.{fmt}",
    response_class=Response,
    responses=DOCUMENT,
    summary="Create a service request",
)
def post(
    fmt: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    service_code: Annotated[str | None, Form()] = None,
    lat: Annotated[str | None, Form()] = None,
    long: Annotated[str | None, Form()] = None,
    address_string: Annotated[str | None, Form(max_length=500)] = None,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    first_name: Annotated[str | None, Form(max_length=50)] = None,
    last_name: Annotated[str | None, Form(max_length=50)] = None,
    phone: Annotated[str | None, Form(max_length=32)] = None,
    api_key: Annotated[str | None, Form()] = None,
    jurisdiction_id: Annotated[str | None, Form()] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response:
    """Report through Open311 (``lat``/``long`` in WGS-84, or an ``address_string``).

    Answers ``service_request_id`` (the incident id) and a ``token`` that looks
    it up again (``tokens/{token}``, or ``X-Case-Token`` on ``/incidents/{id}``).
    """

    def produce() -> Response:
        if not service_code:
            raise InvalidInputError("service_code is required", code="missing_service_code")
        try:
            caller = _caller(request, session, principal, api_key)
        except NotAuthenticatedError:
            return render_error(fmt, 403, "invalid api_key")
        except TooManyRequestsError as exc:
            return _too_many(fmt, exc)
        result = post_request(
            session=session,
            post=Open311Post(
                service_code=service_code,
                lat=_float(lat, "lat"),
                lon=_float(long, "long"),
                address_string=address_string,
                description=description,
                first_name=first_name,
                last_name=last_name,
                phone=phone,
            ),
            actor=actor_of(caller),
            channel=settings.cases.open311_channel,
            idempotency_key=idempotency_key,
            tolerance_m=settings.cases.locate_tolerance_m,
            client=client_fingerprint(request),
            now=now,
        )
        session.commit()
        return render_list(fmt, "service_requests", "request", [_created(result)], status=201)

    return _answer(fmt, jurisdiction_id, produce)


def _too_many(fmt: str, exc: TooManyRequestsError) -> Response:
    """429 in the request's format, saying when to try again."""
    refused = render_error(fmt, 429, exc.message)
    refused.headers["Retry-After"] = str(exc.details["retry_after_s"])
    return refused


def _created(result: IntakeResult) -> dict[str, str]:
    """The GeoReport answer to a new request: its id, where it was located, its token."""
    return {
        "service_request_id": str(result.incident.id),
        "service_notice": f"located in {result.location.community_name or ''}".strip(),
        "account_id": "",
        "token": result.token,
    }
