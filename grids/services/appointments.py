"""Book, reschedule and cancel appointments; the slot counter in the database refuses overbooking.

Every check runs before anything is written (unknown item 404, not bookable 422,
unknown point 404, not offered 422, past 422, beyond the horizon 422, not a slot
of the opening hours 422, missing materials 422); then the slot row is made if
needed and incremented with a guarded UPDATE (`layers.tables.appointment_slots`):
no row updated is 409 ``slot_full`` and the transaction writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.reference import work_calendar
from grids.services.booking_write import NewAppointment, book_in_one_statement
from grids.services.documents import owned_kinds
from grids.services.outbox import enqueue, enqueue_many, void_pending
from grids.services.points import Point, booking_place, get_point, offer_staff
from grids.services.slots import is_slot_start
from grids.services.tokens import new_token, require
from layers.core.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from layers.core.roles import SERVICE_STAFF
from layers.tables.appointments import Appointment
from layers.tables.audit import record
from layers.tables.clocks import LOCAL_TZ
from layers.tables.service_items import MATERIAL_KINDS, ServiceItem


@dataclass(frozen=True)
class SlotRules:
    """How slots are cut and how far ahead they may be booked."""

    slot_minutes: int = 30
    booking_days: int = 14


@dataclass(frozen=True)
class Booking:
    """What a resident asks for."""

    item: str
    service_point: str
    starts_at: datetime
    materials: tuple[str, ...] = ()
    document_ids: tuple[int, ...] = ()
    library_token: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    person_id: int | None = None
    channel: str = "online"


def check_slot(
    *, session: Session, point: Point, starts_at: datetime, rules: SlotRules, now: datetime
) -> None:
    """422 unless `starts_at` is a future slot of the point's opening hours within the horizon."""
    if starts_at.tzinfo is None:
        raise UnprocessableError("starts_at needs a time zone", code="naive_datetime")
    if starts_at <= now:
        raise UnprocessableError("the slot has already begun", code="slot_in_past")
    if starts_at > now + timedelta(days=rules.booking_days + 1):
        raise UnprocessableError(
            f"slots can be booked at most {rules.booking_days} days ahead", code="slot_too_far"
        )
    calendar = work_calendar(session=session)
    if point.schedule is None or not is_slot_start(
        starts_at, point.schedule, calendar, rules.slot_minutes
    ):
        raise UnprocessableError(
            "not a slot of the station's opening hours",
            code="outside_opening_hours",
            opening_hours=None
            if point.schedule is None
            else [point.schedule.hours_on(d) for d in range(7)],
        )


def check_materials(*, session: Session, item: ServiceItem, booking: Booking) -> None:
    """422 `missing_materials` unless every required material is declared or in the library."""
    have = set(booking.materials) | owned_kinds(
        session=session, ids=booking.document_ids, token=booking.library_token
    )
    missing = [m for m in item.materials if m not in have]
    if missing:
        raise UnprocessableError(
            "required materials are missing: "
            + "、".join(MATERIAL_KINDS.get(m, m) for m in missing),
            code="missing_materials",
            missing=missing,
        )


def take_place(
    *,
    session: Session,
    point: Point,
    item_id: int,
    starts_at: datetime,
    capacity: int,
    rules: SlotRules,
    moving_from: int,
) -> int:
    """A reschedule's new place (slot row made if new); 409 `slot_full` when none is left.

    Both slot rows (the one left, `moving_from`, and the new one) are locked in id
    order first, so two residents swapping slots queue instead of deadlocking.  A
    fresh booking takes its place in `booking_write`'s single statement instead.
    """
    params = {"p": point.id, "i": item_id, "s": starts_at}
    ends = starts_at + timedelta(minutes=rules.slot_minutes)
    if capacity < 1:
        raise ConflictError("this slot is fully booked", code="slot_full")
    session.execute(
        text(
            "INSERT INTO appointment_slots "
            "(service_point_id, item_id, starts_at, ends_at, capacity) "
            "VALUES (:p, :i, :s, :e, :c) "
            "ON CONFLICT (service_point_id, item_id, starts_at) DO NOTHING"
        ),
        params | {"e": ends, "c": capacity},
    )
    session.execute(
        text(
            "SELECT id FROM appointment_slots WHERE id = :o OR (service_point_id = :p "
            "AND item_id = :i AND starts_at = :s) ORDER BY id FOR UPDATE"
        ),
        params | {"o": moving_from},
    )
    slot_id = session.execute(
        text(
            "UPDATE appointment_slots SET booked = booked + 1 WHERE service_point_id = :p "
            "AND item_id = :i AND starts_at = :s AND booked < capacity RETURNING id"
        ),
        params,
    )
    return _taken_or_full(slot_id.scalar())


def _taken_or_full(slot_id: int | None) -> int:
    if slot_id is None:
        raise ConflictError("this slot is fully booked", code="slot_full")
    return int(slot_id)


def _release(session: Session, slot_id: int) -> None:
    session.execute(
        text("UPDATE appointment_slots SET booked = booked - 1 WHERE id = :i AND booked > 0"),
        {"i": slot_id},
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%m月%d日 %H:%M")


def _notify(
    session: Session,
    appt: Appointment,
    item: ServiceItem,
    point: Point,
    kind: str,
    prefix: str,
    now: datetime,
) -> None:
    """A reschedule's notice now and a new reminder the day before the slot (the old one void)."""
    void_pending(session=session, appointment_id=appt.id, kind="reminder")
    what = f"{item.name}：{point.name} {_when(appt.starts_at)}"
    reminder_due = max(now, appt.starts_at - timedelta(days=1))
    enqueue_many(
        session=session,
        appointment_id=appt.id,
        now=now,
        messages=[(kind, f"{prefix} {what}", now), ("reminder", f"预约提醒 {what}", reminder_due)],
    )


def _point_of(session: Session, appt: Appointment, code: str | None) -> Point:
    """The point named by `code`, else the appointment's own."""
    if code is None:
        code = session.execute(
            text("SELECT code FROM service_points WHERE id = :i"), {"i": appt.service_point_id}
        ).scalar_one()
    return get_point(session=session, code=code)


def _row(
    booking: Booking,
    item: ServiceItem,
    point: Point,
    staff: int,
    token_hash: str,
    actor: Actor,
    rules: SlotRules,
    now: datetime,
) -> NewAppointment:
    """What the booking statement writes: the row, both notices (never the resident), the audit."""
    what = f"{item.name}：{point.name} {_when(booking.starts_at)}"
    return NewAppointment(
        point_id=point.id,
        point_code=point.code,
        item_id=item.id,
        item_code=item.code,
        starts_at=booking.starts_at,
        ends_at=booking.starts_at + timedelta(minutes=rules.slot_minutes),
        capacity=staff,
        channel=booking.channel,
        token_hash=token_hash,
        contact_name=booking.contact_name,
        contact_phone=booking.contact_phone,
        person_id=booking.person_id,
        materials=list(booking.materials),
        document_ids=list(booking.document_ids),
        actor=actor.name,
        role=actor.role,
        booked_body=f"预约成功 {what}",
        reminder_body=f"预约提醒 {what}",
        reminder_due=max(now, booking.starts_at - timedelta(days=1)),
    )


def book(
    *, session: Session, booking: Booking, actor: Actor, rules: SlotRules, now: datetime
) -> tuple[Appointment, str]:
    """Book a place; answers the appointment and the resident's token (shown once)."""
    if booking.channel == "walk_in" and actor.role not in SERVICE_STAFF:
        raise ForbiddenError("walk-ins are registered by station staff", code="walk_in_staff_only")
    item, point, staff = booking_place(
        session=session, item_code=booking.item, point_code=booking.service_point
    )
    check_slot(session=session, point=point, starts_at=booking.starts_at, rules=rules, now=now)
    check_materials(session=session, item=item, booking=booking)
    if staff < 1:
        raise ConflictError("this slot is fully booked", code="slot_full")
    token, hashed = new_token()
    done = book_in_one_statement(
        session=session, new=_row(booking, item, point, staff, hashed, actor, rules, now), now=now
    )
    if done is None:
        raise ConflictError("this slot is fully booked", code="slot_full")
    appt = Appointment(  # transient: the row is written; the caller reads these fields
        id=done[0],
        slot_id=done[1],
        service_point_id=point.id,
        item_id=item.id,
        starts_at=booking.starts_at,
        status="booked",
        channel=booking.channel,
        access_token_hash=hashed,
        materials=list(booking.materials),
        document_ids=list(booking.document_ids),
        created_at=now,
        updated_at=now,
        version=1,
    )
    return appt, token


def _audit(
    session: Session, actor: Actor, action: str, appt: Appointment, now: datetime, data: dict
) -> None:
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action=action,
        entity="appointments",
        entity_id=appt.id,
        data=data,
        at=now,
    )


def load_appointment(
    *, session: Session, appointment_id: int, actor: Actor, token: str | None, lock: bool = False
) -> Appointment:
    """The appointment if `actor` may see it: service staff always, a resident with its token."""
    appt = session.get(Appointment, appointment_id, with_for_update=lock)
    if appt is None:
        raise NotFoundError("no such appointment", code="unknown_appointment")
    if actor.role not in SERVICE_STAFF:
        require(token, appt.access_token_hash, what="appointment", code="unknown_appointment")
    return appt


def _active(appt: Appointment) -> None:
    if appt.status != "booked":
        raise ConflictError(f"the appointment is {appt.status}", code="appointment_not_active")


def cancel(
    *, session: Session, appointment_id: int, actor: Actor, token: str | None, now: datetime
) -> Appointment:
    """Cancel a booked appointment and free its place."""
    appt = load_appointment(
        session=session, appointment_id=appointment_id, actor=actor, token=token, lock=True
    )
    _active(appt)
    _release(session, appt.slot_id)
    appt.status, appt.updated_at, appt.version = "cancelled", now, appt.version + 1
    void_pending(session=session, appointment_id=appt.id, kind="reminder")
    enqueue(
        session=session,
        kind="cancelled",
        body="预约已取消",
        due_at=now,
        now=now,
        appointment_id=appt.id,
    )
    _audit(session, actor, "appointment_cancelled", appt, now, {"slot_id": appt.slot_id})
    return appt


def reschedule(
    *,
    session: Session,
    appointment_id: int,
    actor: Actor,
    token: str | None,
    starts_at: datetime,
    service_point: str | None,
    rules: SlotRules,
    now: datetime,
) -> Appointment:
    """Move a booked appointment to another slot (same item); the old place is freed."""
    appt = load_appointment(
        session=session, appointment_id=appointment_id, actor=actor, token=token, lock=True
    )
    _active(appt)
    item = session.get(ServiceItem, appt.item_id)
    assert item is not None
    point = _point_of(session, appt, service_point)
    staff = offer_staff(session=session, point=point, item_id=item.id, item_code=item.code)
    check_slot(session=session, point=point, starts_at=starts_at, rules=rules, now=now)
    if point.id == appt.service_point_id and starts_at == appt.starts_at:
        raise UnprocessableError("that is the slot already booked", code="same_slot")
    old_slot = appt.slot_id
    new_slot = take_place(
        session=session,
        point=point,
        item_id=item.id,
        starts_at=starts_at,
        capacity=staff,
        rules=rules,
        moving_from=old_slot,
    )
    _release(session, old_slot)
    appt.slot_id, appt.service_point_id, appt.starts_at = new_slot, point.id, starts_at
    appt.updated_at, appt.version = now, appt.version + 1
    _notify(session, appt, item, point, "rescheduled", "预约已改期", now)
    _audit(
        session,
        actor,
        "appointment_rescheduled",
        appt,
        now,
        {"from_slot": old_slot, "to_slot": new_slot},
    )
    return appt


def mark_attendance(
    *, session: Session, appointment_id: int, actor: Actor, kept: bool, now: datetime
) -> Appointment:
    """Staff record whether the resident came (only once the slot has begun)."""
    appt = load_appointment(
        session=session, appointment_id=appointment_id, actor=actor, token=None, lock=True
    )
    _active(appt)
    if now < appt.starts_at:
        raise UnprocessableError("the slot has not begun yet", code="slot_not_begun")
    appt.status = "kept" if kept else "missed"
    appt.updated_at, appt.version = now, appt.version + 1
    _audit(session, actor, f"appointment_{appt.status}", appt, now, {})
    return appt
