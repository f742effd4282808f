"""Address → standard addresses with their building, courtyard and grid chain (and back).

The grid chain of an address is never stored: it is asked of the one locate
rule (`grids.grid.locate.locate_one`, in memory) for the entrance point, so a
published revision answers at once.  The addresses themselves, their entrance
points, buildings and courtyards are held in memory per database
(`grids.base_data.address_cache`): an exact or component match costs no query;
only a fuzzy one asks the trigram index (one statement).  Public: no personal
data comes out.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.address_cache import ADDRESSES, Book, Entrance
from grids.grid.locate import Location, locate_one
from layers.base_data.address_text import normalise, parse
from layers.base_data.matching import FUZZY_THRESHOLD, Match
from layers.core.errors import InvalidInputError

_DETAILS = text(
    "SELECT a.id, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, b.code AS building,"
    " y.code AS courtyard_code, y.name AS courtyard FROM addresses a"
    " LEFT JOIN buildings b ON b.id = a.building_id"
    " LEFT JOIN courtyards y ON y.id = a.courtyard_id WHERE a.id = ANY(:ids)"
)
# One round trip: the threshold of `%` (what the GIN index prunes by: at full scale
# 0.45 reads a quarter of the candidates 0.3 does, 12 ms instead of 57 under load)
# for this transaction only, then the trigram query.
_FUZZY = text(
    f"SET LOCAL pg_trgm.similarity_threshold = {float(FUZZY_THRESHOLD)};"  # noqa: S608 (a constant)
    " SELECT id, full_text, similarity(full_text, :q) AS s FROM addresses"
    " WHERE full_text % :q ORDER BY s DESC, id LIMIT :k"
)


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


def structural_matches(book: Book, q: str, limit: int) -> list[Match] | None:
    """Exact or component matches from memory (every 单元 when it was left out); None: ask SQL."""
    found, parts = book.matcher.structural(q)
    if found is None:
        return None
    ids = book.matcher.ambiguous(found, parts) or [found.address_id]
    return [Match(i, book.matcher.text_of[i], found.score, found.method) for i in ids[:limit]]


def fuzzy_matches(session: Session, book: Book, q: str, limit: int) -> list[Match]:
    """Trigram matches of the normalised (and, when it parses, standardised) text."""
    wanted = normalise(q, book.matcher.aliases)
    parts = parse(wanted)
    rows = session.execute(_FUZZY, {"q": parts.standard if parts else wanted, "k": limit}).all()
    return [Match(r.id, r.full_text, round(float(r.s) * 0.8, 3), "fuzzy") for r in rows]


def answer_key(book: Book, q: str, limit: int, staff: bool) -> Hashable:
    """What a kept answer is filed under: the normalised text, the limit, staff or not."""
    return (normalise(q, book.matcher.aliases), limit, staff)


def _entrances(session: Session, book: Book, ids: list[int]) -> dict[int, Entrance]:
    out = {i: book.entrances[i] for i in ids if i in book.entrances}
    missing = [i for i in ids if i not in out]  # added after the book was loaded
    for r in session.execute(_DETAILS, {"ids": missing}) if missing else ():
        out[r.id] = Entrance(float(r.lon), float(r.lat), r.building, r.courtyard_code, r.courtyard)
    return out


def placed(
    session: Session, book: Book, matches: list[Match], tolerance_m: float | None
) -> list[Geocoded]:
    """The matches with their entrance, building, courtyard and grid (memory, when warm)."""
    where = _entrances(session, book, [m.address_id for m in matches])
    out = []
    for m in matches:
        e = where[m.address_id]
        loc = locate_one(session=session, lon=e.lon, lat=e.lat, tolerance_m=tolerance_m)
        out.append(
            Geocoded(
                m.address_id,
                m.full_text,
                m.score,
                m.method,
                e.lon,
                e.lat,
                e.building,
                e.courtyard_code,
                e.courtyard,
                loc,
            )
        )
    return out


def geocode(
    *, session: Session, q: str, limit: int = 5, tolerance_m: float | None = None
) -> list[Geocoded]:
    """Ranked standard addresses for the text `q` (400 ``empty_query`` for a blank one)."""
    if not q.strip():
        raise InvalidInputError("send an address in q", code="empty_query")
    book = ADDRESSES.book(session)
    matches = structural_matches(book, q, limit)
    if matches is None:  # perhaps an address added since: check the version first
        book = ADDRESSES.book(session, verify=True)
        matches = structural_matches(book, q, limit)
    if matches is None:
        matches = fuzzy_matches(session, book, q, limit)
    return placed(session, book, matches, tolerance_m)


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
    book = ADDRESSES.book(session)
    near = [Match(r.id, r.full_text, 1.0, "nearest") for r in rows]
    distance = {r.id: round(float(r.d), 1) for r in rows}
    out = [
        Geocoded(**{**g.__dict__, "distance_m": distance[g.address_id]})
        for g in placed(session, book, near, tolerance_m)
    ]
    return sorted(out, key=lambda g: (g.distance_m or 0.0, g.address_id))
