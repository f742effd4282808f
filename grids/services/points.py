"""Service points as the service network sees them: found by code, offering an item or not."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core import opening_hours
from layers.core.errors import NotFoundError, UnprocessableError
from layers.core.opening_hours import Schedule
from layers.tables.service_items import ServiceItem


@dataclass(frozen=True)
class Point:
    """A service point's identity, hours and community."""

    id: int
    code: str
    name: str
    community_id: int | None
    schedule: Schedule | None


def get_point(*, session: Session, code: str) -> Point:
    """The service point of `code`; 404 `unknown_service_point` otherwise."""
    row = session.execute(
        text(
            "SELECT id, code, name, community_id, opening_hours FROM service_points WHERE code = :c"
        ),
        {"c": code},
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no service point {code!r}", code="unknown_service_point")
    return Point(
        row.id, row.code, row.name, row.community_id, opening_hours.parse(row.opening_hours)
    )


def offer_staff(*, session: Session, point: Point, item_id: int, item_code: str) -> int:
    """Staff per slot of `point` for the item; 422 `not_offered` when it is not offered there."""
    staff = session.execute(
        text("SELECT staff FROM service_offers WHERE service_point_id = :p AND item_id = :i"),
        {"p": point.id, "i": item_id},
    ).scalar()
    if staff is None:
        raise UnprocessableError(
            f"{point.code} does not offer {item_code}", code="not_offered", service_point=point.code
        )
    return int(staff)


_schedule = lru_cache(maxsize=4096)(opening_hours.parse)  # pure: hours text -> Schedule

_BOOKING_PLACE = text(
    "SELECT it.id, it.code, it.name, it.bookable, it.materials, sp.id AS point_id, "
    "sp.code AS point_code, sp.name AS point_name, sp.community_id, sp.opening_hours, o.staff "
    "FROM service_items it LEFT JOIN service_points sp ON sp.code = :p "
    "LEFT JOIN service_offers o ON o.item_id = it.id AND o.service_point_id = sp.id "
    "WHERE it.code = :i"
)


def booking_place(
    *, session: Session, item_code: str, point_code: str
) -> tuple[ServiceItem, Point, int]:
    """(item, point, staff per slot) for a booking, in one round trip.

    The same refusals, in the same order, as `get_item` + `get_point` +
    `offer_staff`: 404 `unknown_item`, 422 `not_bookable`, 404
    `unknown_service_point`, 422 `not_offered`.  The item is a transient row
    (not attached to the session): the booking only reads it.
    """
    row = session.execute(_BOOKING_PLACE, {"i": item_code, "p": point_code}).one_or_none()
    if row is None:
        raise NotFoundError(f"no service item {item_code!r}", code="unknown_item")
    if not row.bookable:
        raise UnprocessableError(f"{row.code} cannot be booked online", code="not_bookable")
    if row.point_id is None:
        raise NotFoundError(f"no service point {point_code!r}", code="unknown_service_point")
    if row.staff is None:
        raise UnprocessableError(
            f"{point_code} does not offer {row.code}", code="not_offered", service_point=point_code
        )
    item = ServiceItem(
        id=row.id, code=row.code, name=row.name, bookable=row.bookable, materials=row.materials
    )
    point = Point(
        row.point_id,
        row.point_code,
        row.point_name,
        row.community_id,
        _schedule(row.opening_hours),
    )
    return item, point, int(row.staff)
