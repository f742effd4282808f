"""Service points as the service network sees them: found by code, offering an item or not."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core import opening_hours
from layers.core.errors import NotFoundError, UnprocessableError
from layers.core.opening_hours import Schedule


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
