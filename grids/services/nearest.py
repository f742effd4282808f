"""The nearest service points offering an item, each with its next free slots.

Distance is the straight line (geodesic, metres): the demo has no walking
network, and the answer says so (``"distance": "straight_line"``).  The points
are ranked in SQL and read in batches, nearest first (``3 × limit``, then
doubling), until `limit` points with a free slot are found: a near point whose
slots are all full never hides a farther one with room.  The scan stops after
`MAX_SCAN` points (the offers of one item are at most the district's stations, a
few hundred at full scale); the answer says how many points were examined and
whether that bound was reached.  Free slots are the point's slots from its
opening hours minus the slot rows already full, read in one query per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.geocode import geocode
from grids.cases.reference import work_calendar
from grids.services.appointments import SlotRules
from grids.services.slots import upcoming_slots
from layers.core import opening_hours
from layers.core.errors import InvalidInputError, NotFoundError, UnprocessableError
from layers.tables.work_calendar import WorkCalendar

MAX_POINTS = 20
MAX_SLOTS = 10
MAX_SCAN = 400

_schedule = lru_cache(maxsize=4096)(opening_hours.parse)  # pure: hours text -> Schedule

# One round trip per batch (on a loaded machine each costs milliseconds): the item
# (no row: unknown), the next offering points by distance (LEFT JOIN LATERAL: a
# row with NULLs when none is left), and each point's slot counters in the horizon.
_BATCH = """
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g)
SELECT it.id AS item_id, it.code AS item_code, it.name AS item_name, it.bookable,
       it.materials, c.*,
       (SELECT array_agg(s.starts_at) FROM appointment_slots s WHERE s.item_id = it.id
        AND s.service_point_id = c.id AND s.starts_at > :now AND s.starts_at <= :until)
         AS slot_starts,
       (SELECT array_agg(s.capacity - s.booked) FROM appointment_slots s WHERE s.item_id = it.id
        AND s.service_point_id = c.id AND s.starts_at > :now AND s.starts_at <= :until)
         AS slot_left
FROM service_items it LEFT JOIN LATERAL (
    SELECT sp.id, sp.code, sp.name, sp.kind, sp.address, sp.phone, sp.opening_hours,
           ST_X(sp.geom) AS lon, ST_Y(sp.geom) AS lat, o.staff,
           ST_Distance(sp.geom::geography, here.g) AS distance_m
    FROM service_offers o JOIN service_points sp ON sp.id = o.service_point_id, here
    WHERE o.item_id = it.id AND it.bookable
    ORDER BY distance_m, sp.code
    LIMIT :candidates OFFSET :skip
) c ON true
WHERE it.code = :code
ORDER BY c.distance_m, c.code
"""


@dataclass
class NearPoint:
    """A candidate point and its free slots."""

    row: Any
    free: list[dict[str, Any]] = field(default_factory=list)


def _free_slots(
    r: Any,
    calendar: WorkCalendar,
    rules: SlotRules,
    now: datetime,
    slots: int,
) -> list[dict[str, Any]]:
    """The first `slots` slots of point row `r` with places left."""
    schedule = _schedule(r.opening_hours)
    taken = dict(zip(r.slot_starts or (), r.slot_left or (), strict=True))
    free: list[dict[str, Any]] = []
    if schedule is None:
        return free
    for start in upcoming_slots(
        schedule=schedule,
        calendar=calendar,
        slot_minutes=rules.slot_minutes,
        now=now,
        days=rules.booking_days,
    ):
        left = taken.get(start, r.staff)
        if left > 0:
            free.append(
                {
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=rules.slot_minutes),
                    "free": left,
                }
            )
            if len(free) >= slots:
                break
    return free


def nearest_with_slots(
    *,
    session: Session,
    item_code: str,
    lon: float,
    lat: float,
    limit: int,
    slots: int,
    rules: SlotRules,
    now: datetime,
) -> dict[str, Any]:
    """Up to `limit` nearest points with at least one free slot, each with `slots` free slots."""
    if not 1 <= limit <= MAX_POINTS or not 1 <= slots <= MAX_SLOTS:
        raise InvalidInputError(
            f"limit must be in [1, {MAX_POINTS}] and slots in [1, {MAX_SLOTS}]",
            code="invalid_limit",
        )
    item, found, scanned, exhausted = _scan(session, item_code, lon, lat, limit, slots, rules, now)
    return {
        "item": {"code": item.item_code, "name": item.item_name, "materials": list(item.materials)},
        "distance": "straight_line",
        "distance_note": "geodesic straight-line distance: no walking network is loaded",
        "points": [_point_out(p) for p in found],
        "scanned": scanned,
        "scan_bound_reached": not exhausted and len(found) < limit,
    }


def _scan(
    session: Session,
    item_code: str,
    lon: float,
    lat: float,
    limit: int,
    slots: int,
    rules: SlotRules,
    now: datetime,
) -> tuple[Any, list[NearPoint], int, bool]:
    """(item row, points with free slots, points examined, all offering points examined?)."""
    params = {"lon": lon, "lat": lat, "code": item_code, "now": now}
    params["until"] = now + timedelta(days=rules.booking_days + 1)
    calendar = work_calendar(session=session)
    found: list[NearPoint] = []
    scanned, batch = 0, limit * 3
    while True:
        batch = min(batch, MAX_SCAN - scanned)
        rows = session.execute(text(_BATCH), params | {"candidates": batch, "skip": scanned}).all()
        if not rows:
            raise NotFoundError(f"no service item {item_code!r}", code="unknown_item")
        if not rows[0].bookable:
            raise UnprocessableError(f"{item_code} cannot be booked online", code="not_bookable")
        points = [r for r in rows if r.id is not None]
        for r in points:
            scanned += 1
            point = NearPoint(r, _free_slots(r, calendar, rules, now, slots))
            if point.free:
                found.append(point)
                if len(found) >= limit:
                    return rows[0], found, scanned, False
        if len(points) < batch:
            return rows[0], found, scanned, True
        if scanned >= MAX_SCAN:
            return rows[0], found, scanned, False
        batch *= 2


def _point_out(p: NearPoint) -> dict[str, Any]:
    r = p.row
    return {
        "code": r.code,
        "name": r.name,
        "kind": r.kind,
        "address": r.address,
        "phone": r.phone,
        "opening_hours": r.opening_hours,
        "lon": r.lon,
        "lat": r.lat,
        "distance_m": round(float(r.distance_m), 1),
        "staff": r.staff,
        "next_free_slots": p.free,
    }


def where_is(*, session: Session, address: str) -> dict[str, Any]:
    """The WGS-84 point of a resident's address, by the base-data geocoder (its best match).

    422 `address_not_found` when no standard address matches (nothing is guessed);
    the answer says which standard address was used and how it was matched.
    """
    found = geocode(session=session, q=address, limit=1)
    if not found:
        raise UnprocessableError(
            "no standard address matches; send lon and lat instead", code="address_not_found"
        )
    best = found[0]
    return {
        "address": address,
        "matched": best.full_text,
        "method": best.method,
        "score": best.score,
        "lon": best.lon,
        "lat": best.lat,
    }
