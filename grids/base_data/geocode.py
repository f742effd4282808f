"""Address → standard addresses with their building, courtyard and grid chain (and back).

The grid chain of an address is never stored: it is asked of the one locate
rule (`grids.grid.locate.locate_one`, in memory) for the entrance point, so a
published revision answers at once.  Public: no personal data comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.grid_cache import database_key
from grids.grid.locate import Location, locate_one
from layers.base_data.matching import AddressBook, Match, match_address
from layers.core.errors import InvalidInputError

_DETAILS = """
SELECT a.id, a.full_text, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
  b.code AS building, y.code AS courtyard_code, y.name AS courtyard
FROM addresses a LEFT JOIN buildings b ON b.id = a.building_id
LEFT JOIN courtyards y ON y.id = a.courtyard_id WHERE a.id = ANY(:ids)
"""


@dataclass(frozen=True)
class Geocoded:
    """A standard address found for a query, where it is and which grid serves it."""

    address_id: int
    full_text: str
    score: float
    method: str
    lon: float
    lat: float
    building: str | None
    courtyard_code: str | None
    courtyard: str | None
    location: Location
    distance_m: float | None = None


def _located(session: Session, ids: list[int], tolerance_m: float | None) -> dict[int, dict]:
    rows = session.execute(text(_DETAILS), {"ids": ids}).mappings().all()
    out = {}
    for r in rows:
        loc = locate_one(session=session, lon=r["lon"], lat=r["lat"], tolerance_m=tolerance_m)
        out[r["id"]] = {**r, "location": loc}
    return out


_BOOKS: dict[str, tuple[tuple[int, int, int], AddressBook]] = {}
_VERSION = (
    "SELECT coalesce((SELECT max(id) FROM addresses), 0), coalesce((SELECT max(id) FROM"
    " road_aliases), 0), (SELECT count(*) FROM road_aliases)"
)


def address_book(session: Session) -> AddressBook:
    """The standard addresses in memory, per database, reloaded when one is added.

    Addresses and aliases are only ever added (a new id), so the largest ids and
    the aliases' count are their version: one cheap query per geocode.
    """
    key = database_key(session)
    row = session.execute(text(_VERSION)).one()
    version = (int(row[0]), int(row[1]), int(row[2]))
    cached = _BOOKS.get(key)
    if cached is None or cached[0] != version:
        book = AddressBook(session)
        book.session = None  # shared across requests: it never queries (`structural`)
        _BOOKS[key] = cached = (version, book)
    return cached[1]


def _matches(session: Session, q: str, limit: int) -> list[Match]:
    """Exact or component matches from memory (every 单元 when it was left out), else SQL."""
    book = address_book(session)
    found, parts = book.structural(q)
    if found is None:
        return match_address(session=session, raw=q, limit=limit)[0]
    ids = book.ambiguous(found, parts) or [found.address_id]
    return [Match(i, book.text_of[i], found.score, found.method) for i in ids[:limit]]


def geocode(
    *, session: Session, q: str, limit: int = 5, tolerance_m: float | None = None
) -> list[Geocoded]:
    """Ranked standard addresses for the text `q` (400 ``empty_query`` for a blank one)."""
    if not q.strip():
        raise InvalidInputError("send an address in q", code="empty_query")
    matches = _matches(session, q, limit)
    found = _located(session, [m.address_id for m in matches], tolerance_m)
    return [
        Geocoded(
            m.address_id,
            m.full_text,
            m.score,
            m.method,
            found[m.address_id]["lon"],
            found[m.address_id]["lat"],
            found[m.address_id]["building"],
            found[m.address_id]["courtyard_code"],
            found[m.address_id]["courtyard"],
            found[m.address_id]["location"],
        )
        for m in matches
    ]


def reverse_geocode(
    *, session: Session, lon: float, lat: float, limit: int = 5, tolerance_m: float | None = None
) -> list[Geocoded]:
    """The entrances nearest to a WGS-84 point, nearest first (metres, geodesic)."""
    rows = session.execute(
        text(
            "SELECT id, full_text, ST_Distance(geom::geography, p::geography) AS d FROM addresses,"
            " ST_SetSRID(ST_MakePoint(:x, :y), 4326) p ORDER BY geom <-> p, id LIMIT :k"
        ),
        {"x": lon, "y": lat, "k": limit},
    ).all()
    found = _located(session, [r.id for r in rows], tolerance_m)
    out = [
        Geocoded(
            r.id,
            r.full_text,
            1.0,
            "nearest",
            found[r.id]["lon"],
            found[r.id]["lat"],
            found[r.id]["building"],
            found[r.id]["courtyard_code"],
            found[r.id]["courtyard"],
            found[r.id]["location"],
            round(float(r.d), 1),
        )
        for r in rows
    ]
    return sorted(out, key=lambda g: (g.distance_m or 0.0, g.address_id))
