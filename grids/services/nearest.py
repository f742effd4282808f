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
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.reference import work_calendar
from grids.services.appointments import SlotRules
from grids.services.catalogue import get_item
from grids.services.slots import upcoming_slots
from layers.core import opening_hours
from layers.core.errors import InvalidInputError, UnprocessableError
from layers.tables.work_calendar import WorkCalendar

MAX_POINTS = 20
MAX_SLOTS = 10
MAX_SCAN = 400

_schedule = lru_cache(maxsize=4096)(opening_hours.parse)  # pure: hours text -> Schedule

_CANDIDATES = """
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g)
SELECT sp.id, sp.code, sp.name, sp.kind, sp.address, sp.phone, sp.opening_hours,
       ST_X(sp.geom) AS lon, ST_Y(sp.geom) AS lat, o.staff,
       ST_Distance(sp.geom::geography, here.g) AS distance_m
FROM service_offers o JOIN service_points sp ON sp.id = o.service_point_id, here
WHERE o.item_id = :item
ORDER BY distance_m, sp.code
LIMIT :candidates OFFSET :skip
"""


@dataclass
class NearPoint:
    """A candidate point and its free slots."""

    row: Any
    free: list[dict[str, Any]] = field(default_factory=list)


def _taken(session: Session, item_id: int, ids: list[int], now: datetime, until: datetime):
    rows = session.execute(
        text(
            "SELECT service_point_id, starts_at, capacity, booked FROM appointment_slots "
            "WHERE item_id = :i AND service_point_id = ANY(:p) AND starts_at > :n "
            "AND starts_at <= :u"
        ),
        {"i": item_id, "p": ids, "n": now, "u": until},
    ).all()
    return {(r.service_point_id, r.starts_at): (r.capacity, r.booked) for r in rows}


def _free_slots(
    r: Any,
    taken: dict,
    calendar: WorkCalendar,
    rules: SlotRules,
    now: datetime,
    slots: int,
) -> list[dict[str, Any]]:
    """The first `slots` slots of point row `r` with places left."""
    schedule = _schedule(r.opening_hours)
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
        capacity, booked = taken.get((r.id, start), (r.staff, 0))
        if booked < capacity:
            free.append(
                {
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=rules.slot_minutes),
                    "free": capacity - booked,
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
    item = get_item(session=session, code=item_code)
    if not item.bookable:
        raise UnprocessableError(f"{item.code} cannot be booked online", code="not_bookable")
    found, scanned, exhausted = _scan(session, item.id, lon, lat, limit, slots, rules, now)
    return {
        "item": {"code": item.code, "name": item.name, "materials": list(item.materials)},
        "distance": "straight_line",
        "distance_note": "geodesic straight-line distance: no walking network is loaded",
        "points": [_point_out(p) for p in found],
        "scanned": scanned,
        "scan_bound_reached": not exhausted and len(found) < limit,
    }


def _scan(
    session: Session,
    item_id: int,
    lon: float,
    lat: float,
    limit: int,
    slots: int,
    rules: SlotRules,
    now: datetime,
) -> tuple[list[NearPoint], int, bool]:
    """(points with free slots, points examined, all offering points examined?)."""
    until = now + timedelta(days=rules.booking_days + 1)
    calendar = work_calendar(session=session)
    found: list[NearPoint] = []
    scanned, batch = 0, limit * 3
    while scanned < MAX_SCAN:
        batch = min(batch, MAX_SCAN - scanned)
        rows = session.execute(
            text(_CANDIDATES),
            {"lon": lon, "lat": lat, "item": item_id, "candidates": batch, "skip": scanned},
        ).all()
        taken = _taken(session, item_id, [r.id for r in rows], now, until) if rows else {}
        for r in rows:
            scanned += 1
            point = NearPoint(r, _free_slots(r, taken, calendar, rules, now, slots))
            if point.free:
                found.append(point)
                if len(found) >= limit:
                    return found, scanned, False
        if len(rows) < batch:
            return found, scanned, True
        batch *= 2
    return found, scanned, False


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
