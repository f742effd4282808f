"""Reports near a point before a resident files one: "is this yours? follow it instead".

Same category, within `DUPLICATE_RADIUS_M` and the `DUPLICATE_HOURS` before now
(the rule intake uses for `possible_duplicates`), not void.  Only what identifies
the case and its progress leaves here — number, category, status, when, how far —
never a description, an address, a reporter or a worker: those may be personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.intake import DUPLICATE_HOURS, DUPLICATE_RADIUS_M

_NEARBY = text(
    "SELECT i.id, i.category_code, c.name AS category_name, i.status, i.created_at,"
    " ST_Distance(i.geom::geography, p.g) AS distance_m"
    " FROM incidents i JOIN categories c ON c.code = i.category_code,"
    " (SELECT ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography AS g) p"
    " WHERE i.category_code = :c AND i.status <> 'void'"
    " AND i.created_at BETWEEN :t - make_interval(hours => :h) AND :t"
    " AND ST_DWithin(i.geom::geography, p.g, :r)"
    " ORDER BY distance_m, i.id LIMIT 10"
)


@dataclass(frozen=True)
class NearbyReport:
    """A recent report of the same kind close by, without anything personal."""

    id: int
    category: str
    category_name: str
    status: str
    created_at: datetime
    distance_m: float


def nearby_reports(
    *, session: Session, lon: float, lat: float, category: str, now: datetime
) -> list[NearbyReport]:
    """Same-category reports ≤ 50 m and ≤ 24 h before `now` of a WGS-84 point, nearest first."""
    rows = session.execute(
        _NEARBY,
        {
            "x": lon,
            "y": lat,
            "c": category,
            "t": now,
            "h": DUPLICATE_HOURS,
            "r": DUPLICATE_RADIUS_M,
        },
    ).all()
    return [
        NearbyReport(r.id, r.category_code, r.category_name, r.status, r.created_at, r.distance_m)
        for r in rows
    ]


def report_categories(*, session: Session) -> list[dict[str, str]]:
    """The categories a resident chooses from, as the two-level list (major, then minor)."""
    rows = session.execute(
        text(
            "SELECT code, major_code, major_name, name, name_en FROM categories"
            " ORDER BY major_code, code"
        )
    ).all()
    return [dict(r._mapping) for r in rows]
