"""Matching address text to the standard addresses: exact, then by component, then fuzzy.

1. **exact**: the normalised text (`address_text.normalise`, old road names
   replaced through `road_aliases`) parses, and its standard form is an
   `addresses.full_text` — one index probe;
2. **component**: the same road and house number, with the 栋 and 单元 when
   written — a missing 单元 is answered by the building's lowest one (same
   building, same cells), with a lower score;
3. **fuzzy**: `pg_trgm` similarity against `full_text` (GIN index, the ``%``
   operator) for typos and unknown spellings, at or above `FUZZY_THRESHOLD`.

Scores: 1.0 exact, 0.9 component (0.8 without the 单元), the trigram similarity
× 0.8 for fuzzy, so a fuzzy hit never outranks a structural one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.base_data.address_text import AddressParts, normalise, parse

ROAD_CUTOFF = 0.6
"""How like a known road (difflib ratio) an unknown road must be to be taken for it."""
NEAR_ROADS_KEPT = 10_000
"""How many unknown road spellings a book remembers its nearest known road of."""
FUZZY_THRESHOLD = 0.45
"""The least trigram similarity a fuzzy candidate needs (measured on the demo's messy files)."""


@dataclass(frozen=True)
class Match:
    """A standard address a text matched, how, and how well."""

    address_id: int
    full_text: str
    score: float
    method: str  # exact | component | fuzzy


def road_aliases(session: Session) -> dict[str, str]:
    """Old and alias road names → today's road (a small table, read per call)."""
    rows = session.execute(text("SELECT alias, road FROM road_aliases")).all()
    return {r.alias: r.road for r in rows}


def match_address(
    *, session: Session, raw: str, limit: int = 5, aliases: dict[str, str] | None = None
) -> tuple[list[Match], AddressParts | None]:
    """The best standard addresses for `raw`, best first; and what the text parsed to."""
    wanted = normalise(raw, road_aliases(session) if aliases is None else aliases)
    parts = parse(wanted)
    if parts is not None:
        exact = session.execute(
            text("SELECT id, full_text FROM addresses WHERE full_text = :t"), {"t": parts.standard}
        ).first()
        if exact is not None:
            return [Match(exact.id, exact.full_text, 1.0, "exact")], parts
        found = _components(session, parts, limit)
        if found:
            return found, parts
    return _fuzzy(session, parts.standard if parts else wanted, limit), parts


def _components(session: Session, parts: AddressParts, limit: int) -> list[Match]:
    rows = session.execute(
        text(
            "SELECT id, full_text FROM addresses WHERE road = :r AND number = :n"
            " AND (CAST(:b AS int) IS NULL OR building_no = :b)"
            " AND (CAST(:u AS int) IS NULL OR unit_no = :u)"
            " ORDER BY building_no, unit_no, id LIMIT :k"
        ),
        {"r": parts.road, "n": parts.number, "b": parts.building, "u": parts.unit, "k": limit},
    ).all()
    score = 0.9 if parts.unit is not None or parts.building is None else 0.8
    return [Match(r.id, r.full_text, score, "component") for r in rows]


def _fuzzy(session: Session, wanted: str, limit: int) -> list[Match]:
    session.execute(text("SELECT set_limit(:t)"), {"t": FUZZY_THRESHOLD})
    rows = session.execute(
        text(
            "SELECT id, full_text, similarity(full_text, :q) AS s FROM addresses"
            " WHERE full_text % :q ORDER BY s DESC, id LIMIT :k"
        ),
        {"q": wanted, "k": limit},
    ).all()
    return [Match(r.id, r.full_text, round(float(r.s) * 0.8, 3), "fuzzy") for r in rows]


class AddressBook:
    """The standard addresses in memory, for matching a whole file without a query per row.

    Exact and component matches are dictionary probes; only the rows left over
    ask the database's trigram index (`_fuzzy`).  Results are kept per
    normalised text, since a file names the same entrance many times.
    """

    def __init__(self, session: Session) -> None:
        self.session: Session | None = session
        self.aliases = road_aliases(session)
        rows = session.execute(
            text("SELECT id, road, number, building_no, unit_no, full_text FROM addresses")
        ).all()
        self.exact = {r.full_text: r.id for r in rows}
        self.text_of = {r.id: r.full_text for r in rows}
        self.roads = {r.road for r in rows}
        self.parts: dict[tuple[str, int, int | None, int | None], int] = {}
        self.units: dict[tuple[str, int, int | None], list[int]] = {}
        for r in sorted(rows, key=lambda r: (r.building_no or 0, r.unit_no or 0, r.id)):
            self.units.setdefault((r.road, r.number, r.building_no), []).append(r.id)
            for key in (
                (r.road, r.number, r.building_no, r.unit_no),
                (r.road, r.number, r.building_no, None),
                (r.road, r.number, None, None),
            ):
                self.parts.setdefault(key, r.id)
        self.cache: dict[str, tuple[Match | None, AddressParts | None, str]] = {}
        self.near_roads: dict[str, str | None] = {}

    def match(self, raw: str) -> tuple[Match | None, AddressParts | None, str]:
        """The best match, the parsed parts and the normalised text (None: no match)."""
        wanted = normalise(raw, self.aliases)
        if wanted not in self.cache:
            self.cache[wanted] = self._match(wanted)
        return self.cache[wanted]

    def _match(
        self, wanted: str, fuzzy: bool = True
    ) -> tuple[Match | None, AddressParts | None, str]:
        parts = parse(wanted)
        if parts is not None:
            hit = self.exact.get(parts.standard)
            if hit is not None:
                return Match(hit, parts.standard, 1.0, "exact"), parts, wanted
            key = (parts.road, parts.number, parts.building, parts.unit)
            hit = self.parts.get(key)
            if hit is not None:
                score = 0.9 if parts.unit is not None or parts.building is None else 0.8
                return Match(hit, self.text_of[hit], score, "component"), parts, wanted
            road = self._near_road(parts.road)
            if road is not None:  # a typo in the road: its components, at a fuzzy score
                found, _, _ = self._match(wanted.replace(parts.road, road, 1), fuzzy)
                if found is not None:
                    fuzzy_hit = Match(found.address_id, found.full_text, found.score * 0.8, "fuzzy")
                    return fuzzy_hit, replace(parts, road=road), wanted
            if (
                parts.road not in self.roads
            ):  # no such road: the shared tail (…号1栋1单元) is no match
                return None, parts, wanted
        if not fuzzy:
            return None, parts, wanted
        assert self.session is not None, "a shared book answers `structural` only"
        near = _fuzzy(self.session, parts.standard if parts else wanted, 1)
        return (near[0] if near else None), parts, wanted

    def structural(self, raw: str) -> tuple[Match | None, AddressParts | None]:
        """The exact or component match of `raw` from memory alone (no trigram query)."""
        found, parts, _ = self._match(normalise(raw, self.aliases), fuzzy=False)
        return found, parts

    def ambiguous(self, match: Match, parts: AddressParts | None) -> list[int]:
        """The entrances a component match without its 单元 could mean (empty: it is certain)."""
        if match.method != "component" or parts is None or parts.unit is not None:
            return []
        found = self.units.get((parts.road, parts.number, parts.building), [])
        return found if len(found) > 1 else []

    def _near_road(self, road: str) -> str | None:
        """The known road `road` is most like (a typo), when like enough.

        Kept per road (difflib against every road is the dearest step of a
        typo), at most `NEAR_ROADS_KEPT` of them: a server's book hears any text.
        """
        if road in self.roads:
            return None
        if road in self.near_roads:
            return self.near_roads[road]
        near = difflib.get_close_matches(road, self.roads, n=1, cutoff=ROAD_CUTOFF)
        if len(self.near_roads) >= NEAR_ROADS_KEPT:
            self.near_roads.clear()
        self.near_roads[road] = near[0] if near else None
        return self.near_roads[road]
