"""Proxy handling (网下代办), a station's day, a department's queue, KPIs and the outbox.

Residents open a request online and follow it with ``X-Proxy-Token``; station
staff register walk-ins and take the steps (any station may accept any item:
全区通办).  The day view and queue are for service staff, the KPIs for oversight.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from geo_api.auth import EVERYONE, Principal, allow
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.routers.maps import _options, page
from geo_api.routers.residents_nearby import wgs84_point
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.services import (
    DayView,
    DepartmentQueue,
    OutboxRun,
    ProxyIn,
    ProxyOut,
    ProxyStepIn,
    ServiceKpis,
)
from grids.services.kpis import service_kpis
from grids.services.outbox import LogSender, send_due
from grids.services.proxy import (
    NewProxy,
    Step,
    create_request,
    load_request,
    request_out,
    transition,
)
from grids.services.staff import day_view, department_queue
from layers.core.roles import OVERSIGHT, SERVICE_STAFF, Role
from layers.tables.clocks import LOCAL_TZ
from maps.services_desk import desk_page

router = APIRouter(prefix="/services", tags=["services"])

RequestId = Annotated[int, Path(ge=1, le=2**62)]
ProxyToken = Annotated[
    str | None, Header(alias="X-Proxy-Token", description="The token handed out with the request.")
]
LibraryToken = Annotated[
    str | None, Header(alias="X-Library-Token", description="Your materials library's token.")
]


@router.post(
    "/proxy",
    status_code=201,
    response_model=ProxyOut,
    summary="Ask for a matter to be handled on your behalf (网下代办)",
)
def open_request(
    body: ProxyIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    library_token: LibraryToken = None,
) -> dict[str, Any]:
    """Online by residents (documents from their library by id), walk_in by station staff."""
    lon = lat = None
    if body.lon is not None and body.lat is not None:
        lon, lat = wgs84_point(body.lon, body.lat, body.crs)
    new = NewProxy(
        item=body.item,
        channel=body.channel,
        document_ids=tuple(body.document_ids),
        library_token=library_token,
        lon=lon,
        lat=lat,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        person_id=body.person_id,
    )
    req, token = create_request(session=session, new=new, actor=actor_of(principal), now=now)
    out = request_out(session, req, staff=principal.is_staff) | {"proxy_token": token}
    session.commit()
    return out


@router.get(
    "/proxy/{request_id}",
    response_model=ProxyOut,
    summary="Follow a proxy request: its steps and deadlines",
)
def follow(
    request_id: RequestId,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: ProxyToken = None,
) -> dict[str, Any]:
    """Residents with their token; staff see who took each step."""
    req = load_request(
        session=session, request_id=request_id, actor=actor_of(principal), token=token
    )
    return request_out(session, req, staff=principal.role in SERVICE_STAFF)


@router.post(
    "/proxy/{request_id}/transitions",
    response_model=ProxyOut,
    summary="Take a step of a proxy request",
)
def step(
    request_id: RequestId,
    body: ProxyStepIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: ProxyToken = None,
) -> dict[str, Any]:
    """accept (service_point), collect (materials), submit, decide (result), hand_over
    (handover) by service staff; withdraw by the resident (token) before submission."""
    req = transition(
        session=session,
        request_id=request_id,
        actor=actor_of(principal),
        token=token,
        now=now,
        step=Step(
            action=body.action,
            service_point=body.service_point,
            materials=tuple(body.materials),
            result=body.result,
            handover=body.handover,
            note=body.note,
        ),
    )
    out = request_out(session, req, staff=principal.role in SERVICE_STAFF)
    session.commit()
    return out


@router.get(
    "/stations/{code}/day",
    response_model=DayView,
    summary="A station's day: appointments, walk-ins, proxy tasks",
)
def station_day(
    code: Annotated[str, Path(max_length=24)],
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*SERVICE_STAFF)],
    day: Annotated[
        date | None, Query(alias="date", description="Local date; default today.")
    ] = None,
) -> dict[str, Any]:
    """Contacts masked; the read is audited."""
    out = day_view(
        session=session,
        code=code,
        day=day or now.astimezone(LOCAL_TZ).date(),
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    return out


@router.get(
    "/desk",
    response_class=HTMLResponse,
    summary="Station desk (服务站工作台): a station's day and a department's queue (staff page)",
)
def desk(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*SERVICE_STAFF)],
    station: Annotated[str | None, Query(max_length=24)] = None,
    day: Annotated[date | None, Query(alias="date", description="Local date; today.")] = None,
    department: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    """The day view and the queue as a list page; reading the day is audited like the JSON."""
    today = day or now.astimezone(LOCAL_TZ).date()
    view = queue_ = None
    if station:
        view = day_view(
            session=session, code=station, day=today, actor=actor_of(principal), now=now
        )
    if department:
        queue_ = department_queue(session=session, department=department, now=now)
    stations = session.execute(
        text("SELECT code, name FROM service_points ORDER BY code LIMIT 2000")
    ).all()
    options = _options(settings)
    html = desk_page(
        stations=[(r.code, r.name) for r in stations],
        picked=station,
        day=today,
        department=department,
        view=view,
        queue=queue_,
        static_url=options.static_url,
    )
    session.commit()
    return page(html, settings, options, private=True)


@router.get(
    "/departments/{department}/queue",
    response_model=DepartmentQueue,
    dependencies=[allow(*SERVICE_STAFF)],
    summary="Requests submitted to a department, awaiting its decision",
)
def queue(
    department: Annotated[str, Path(max_length=16)], session: SessionDep, now: NowDep
) -> dict[str, Any]:
    """Oldest deadline first, with the accepting station (全区通办)."""
    return department_queue(session=session, department=department, now=now)


@router.get(
    "/kpis",
    response_model=ServiceKpis,
    dependencies=[allow(*OVERSIGHT)],
    summary="Service KPIs: kept/missed, proxy on time, away from home, online share",
)
def kpis(session: SessionDep, now: NowDep) -> dict[str, Any]:
    """Per station and per item (the 50 busiest)."""
    return service_kpis(session=session, now=now)


@router.post("/outbox/send", response_model=OutboxRun, summary="Send the due reminders")
def send_outbox(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.ADMIN)],
) -> dict[str, Any]:
    """With the app's sender (`app.state.service_sender`; default: the log sender)."""
    sender = getattr(request.app.state, "service_sender", None) or LogSender()
    out = send_due(session=session, sender=sender, now=now)
    session.commit()
    return out | {"sender": sender.name}
