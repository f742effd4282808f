"""The service catalogue, the nearest stations with free slots, and appointments.

Residents need no key: booking answers an ``appointment_token`` they send back
as ``X-Appointment-Token`` to read, reschedule or cancel (a missing or wrong
token is 404, as for a case token).  Service staff (`SERVICE_STAFF`) reach any
appointment and record attendance.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic_core import to_json
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_api.auth import EVERYONE, Principal, allow
from geo_api.deps import NowDep, SessionDep, autocommit_session
from geo_api.fast_auth import allow_fast
from geo_api.routers.residents_nearby import wgs84_point
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.services import (
    AppointmentOut,
    AttendanceIn,
    BookingIn,
    CatalogueSummary,
    ItemOut,
    ItemPage,
    NearestOut,
    RescheduleIn,
)
from grids.services.appointments import (
    Booking,
    SlotRules,
    book,
    cancel,
    load_appointment,
    mark_attendance,
    reschedule,
)
from grids.services.catalogue import catalogue_summary, item_view, search_items
from grids.services.nearest import nearest_with_slots, where_is
from layers.core.errors import InvalidInputError
from layers.core.roles import SERVICE_STAFF
from layers.tables.appointments import Appointment

router = APIRouter(prefix="/services", tags=["services"])

AppointmentId = Annotated[int, Path(ge=1, le=2**62)]
AppointmentToken = Annotated[
    str | None,
    Header(alias="X-Appointment-Token", description="The token handed out at booking."),
]
LibraryToken = Annotated[
    str | None, Header(alias="X-Library-Token", description="Your materials library's token.")
]


def rules_of(request: Request) -> SlotRules:
    """The app's slot length and booking horizon."""
    s = request.app.state.settings.services
    return SlotRules(slot_minutes=s.slot_minutes, booking_days=s.booking_days)


def appointment_out(
    session: Session, appt: Appointment, rules: SlotRules, token: str | None = None
) -> dict[str, Any]:
    """An appointment's JSON (codes, not ids, of its item and point)."""
    codes = session.execute(
        text(
            "SELECT (SELECT code FROM service_items WHERE id = :i) AS item, "
            "(SELECT code FROM service_points WHERE id = :p) AS point, "
            "(SELECT ends_at FROM appointment_slots WHERE id = :s) AS ends_at"
        ),
        {"i": appt.item_id, "p": appt.service_point_id, "s": appt.slot_id},
    ).one()
    return {
        "id": appt.id,
        "item": codes.item,
        "service_point": codes.point,
        "starts_at": appt.starts_at,
        "ends_at": codes.ends_at,
        "status": appt.status,
        "version": appt.version,
        "appointment_token": token,
    }


@router.get(
    "/catalogue",
    response_model=CatalogueSummary,
    dependencies=[allow(*EVERYONE)],
    summary="Counts of the service catalogue",
)
def summary(session: SessionDep) -> dict[str, Any]:
    """Items, bookable online, handled fully online, per group."""
    return catalogue_summary(session=session)


@router.get(
    "/items",
    response_model=ItemPage,
    dependencies=[allow(*EVERYONE)],
    summary="Search the service catalogue (Chinese substring)",
)
def items(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=50, description="Words of the name, e.g. 低保")
    ] = None,
    group: Annotated[str | None, Query(max_length=8)] = None,
    bookable: bool | None = None,
    online: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:
    """Items whose name, group or department contains `q` (or whose code is `q`), by code."""
    total, page = search_items(
        session=session,
        q=q,
        group=group,
        bookable=bookable,
        online=online,
        limit=limit,
        offset=offset,
    )
    return {
        "total": total,
        "items": [v.as_dict() for v in page],
        "search": "substring (ILIKE) over a pg_trgm GIN index",
    }


@router.get(
    "/items/{code}",
    response_model=ItemOut,
    dependencies=[allow(*EVERYONE)],
    summary="One catalogue item and what to bring",
)
def item(code: Annotated[str, Path(max_length=16)], session: SessionDep) -> dict[str, Any]:
    """The item, its materials, limit, fee and how many points offer it."""
    return item_view(session=session, code=code).as_dict()


@router.get(
    "/{item}/nearest",
    response_model=NearestOut,
    summary="Nearest service points offering an item, with their next free slots",
)
async def nearest(
    item: Annotated[str, Path(max_length=16)],
    request: Request,
    now: NowDep,
    principal: Annotated[Principal, allow_fast(*EVERYONE)],
    lon: float | None = Query(None, ge=-180, le=180),
    lat: float | None = Query(None, ge=-90, le=90),
    crs: str = Query("wgs84", description="wgs84, cgcs2000, gcj02 (Amap/Tencent) or bd09."),
    address: str | None = Query(
        None, max_length=200, description="Instead of lon/lat: a standard address (geocoded)."
    ),
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
    slots: Annotated[int, Query(ge=1, le=10)] = 3,
) -> Response:
    """By straight-line distance (said so in `distance`); points without a free slot are skipped.

    From `lon`/`lat`, or from `address` through the base-data geocoder (the answer's
    `query` names the standard address used).  The hot public path (issue 14's
    p99 target): the role check needs no database for an anonymous caller, the work
    runs in one worker-thread hop on an autocommit connection (no BEGIN/ROLLBACK
    round trips), and the answer is serialised by pydantic-core straight from the
    dict (`NearestOut` documents it; the test checks the shape).
    """
    if lon is not None and lat is not None:
        x, y = wgs84_point(lon, lat, crs)
        query: dict[str, Any] | None = {"lon": x, "lat": y, "crs": "wgs84"}
    elif address is not None and address.strip() and lon is None and lat is None:
        query = None
    else:
        raise InvalidInputError("send lon and lat, or an address", code="location_required")
    rules = rules_of(request)

    def answer() -> dict[str, Any]:
        with autocommit_session(request) as session:
            here = query or where_is(session=session, address=address or "") | {"crs": "wgs84"}
            out = nearest_with_slots(
                session=session,
                item_code=item,
                lon=here["lon"],
                lat=here["lat"],
                limit=limit,
                slots=slots,
                rules=rules,
                now=now,
            )
        out["query"] = here
        return out

    return Response(to_json(await run_in_threadpool(answer)), media_type="application/json")


@router.post("/appointments", status_code=201, response_model=AppointmentOut, summary="Book a slot")
async def create(
    body: BookingIn,
    request: Request,
    now: NowDep,
    principal: Annotated[Principal, allow_fast(*EVERYONE)],
    library_token: LibraryToken = None,
) -> Response:
    """409 `slot_full` when no place is left (enforced by the database); keep the token.

    The hot write path (issue 14: >= 300 bookings/s): one worker-thread hop, the
    checks in one read, then every write in one atomic statement
    (`grids.services.booking_write`) on an autocommit connection, so no
    BEGIN/COMMIT round trips; the answer is built without reading anything back.
    """
    rules = rules_of(request)
    booking = Booking(
        item=body.item,
        service_point=body.service_point,
        starts_at=body.starts_at,
        materials=tuple(body.materials),
        document_ids=tuple(body.document_ids),
        library_token=library_token,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        person_id=body.person_id,
        channel=body.channel,
    )
    actor = actor_of(principal)

    def write() -> dict[str, Any]:
        with autocommit_session(request) as session:  # autocommit: the booking is one statement
            appt, token = book(session=session, booking=booking, actor=actor, rules=rules, now=now)
        return {
            "id": appt.id,
            "item": body.item,
            "service_point": body.service_point,
            "starts_at": appt.starts_at,
            "ends_at": appt.starts_at + timedelta(minutes=rules.slot_minutes),
            "status": appt.status,
            "version": appt.version,
            "appointment_token": token,
        }

    out = await run_in_threadpool(write)
    return Response(to_json(out), status_code=201, media_type="application/json")


@router.get(
    "/appointments/{appointment_id}",
    response_model=AppointmentOut,
    summary="One appointment (yours, with its token)",
)
def read(
    appointment_id: AppointmentId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: AppointmentToken = None,
) -> dict[str, Any]:
    """Residents see only their own (token); service staff any."""
    appt = load_appointment(
        session=session, appointment_id=appointment_id, actor=actor_of(principal), token=token
    )
    return appointment_out(session, appt, rules_of(request))


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    summary="Move an appointment to another slot",
)
def move(
    appointment_id: AppointmentId,
    body: RescheduleIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: AppointmentToken = None,
) -> dict[str, Any]:
    """The new place is taken before the old one is freed: a full slot changes nothing."""
    rules = rules_of(request)
    appt = reschedule(
        session=session,
        appointment_id=appointment_id,
        actor=actor_of(principal),
        token=token,
        starts_at=body.starts_at,
        service_point=body.service_point,
        rules=rules,
        now=now,
    )
    out = appointment_out(session, appt, rules)
    session.commit()
    return out


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    summary="Cancel an appointment",
)
def drop(
    appointment_id: AppointmentId,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: AppointmentToken = None,
) -> dict[str, Any]:
    """Frees the place; the pending reminder is voided."""
    appt = cancel(
        session=session,
        appointment_id=appointment_id,
        actor=actor_of(principal),
        token=token,
        now=now,
    )
    out = appointment_out(session, appt, rules_of(request))
    session.commit()
    return out


@router.post(
    "/appointments/{appointment_id}/attendance",
    response_model=AppointmentOut,
    summary="Record whether the resident came",
)
def attendance(
    appointment_id: AppointmentId,
    body: AttendanceIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*SERVICE_STAFF)],
) -> dict[str, Any]:
    """Kept or missed, once the slot has begun (feeds the KPIs)."""
    appt = mark_attendance(
        session=session,
        appointment_id=appointment_id,
        actor=actor_of(principal),
        kept=body.kept,
        now=now,
    )
    out = appointment_out(session, appt, rules_of(request))
    session.commit()
    return out
