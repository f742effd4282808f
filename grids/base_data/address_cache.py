"""The standard addresses in memory per database, for `GET /geocode` without a query per request.

An `AddressBook` (exact and component matching) plus each address's entrance
point, building and courtyard, and a small LRU of finished answers.  Freshness
works as the grid's (`grids.grid.grid_cache`): the book is *trusted* without
asking the database only while a LISTEN follows the database's
``wangge_addresses_changed`` notices (migration 0026) and none arrived since it
was checked; otherwise each use reads the version (largest ids, alias count —
addresses and aliases are only ever added) and reloads when it moved.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.grid_cache import database_key
from layers.base_data.matching import AddressBook

ANSWER_CACHE_SIZE = 4096
"""Finished geocode answers kept per process (normalised query × limit × staff)."""

_VERSION = text(
    "SELECT coalesce((SELECT max(id) FROM addresses), 0), coalesce((SELECT max(id) FROM"
    " road_aliases), 0), (SELECT count(*) FROM road_aliases)"
)
_DETAILS = text(
    "SELECT a.id, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, b.code AS building,"
    " y.code AS courtyard_code, y.name AS courtyard FROM addresses a"
    " LEFT JOIN buildings b ON b.id = a.building_id LEFT JOIN courtyards y ON y.id = a.courtyard_id"
)


@dataclass(frozen=True)
class Entrance:
    """Where a standard address is and what it belongs to (no personal data)."""

    lon: float
    lat: float
    building: str | None
    courtyard_code: str | None
    courtyard: str | None


@dataclass
class Book:
    """One database's addresses as loaded: the matcher, the entrances, the answers made from it."""

    version: tuple[int, int, int]
    matcher: AddressBook
    entrances: dict[int, Entrance]
    answers: OrderedDict[Hashable, tuple[Hashable, str]] = field(default_factory=OrderedDict)


class AddressCache:
    """Books per database, trusted while a LISTEN follows their changes."""

    def __init__(self) -> None:
        self._books: dict[str, Book] = {}
        self._lock = threading.Lock()
        self._build = threading.Lock()
        self._followed: dict[str, set[Hashable]] = {}
        self._changes: dict[str, int] = {}
        self._seen: dict[str, int] = {}

    def trusted(self, session: Session) -> bool:
        """True when the book answers from memory alone (loaded, followed, no notice since)."""
        key = database_key(session)
        return (
            key in self._books
            and bool(self._followed.get(key))
            and self._seen.get(key, -1) == self._changes.get(key, 0)
        )

    def book(self, session: Session, verify: bool = False) -> Book:
        """The current book (checked against the version unless trusted; reloaded when older).

        `verify`: check even when trusted — for a text the book did not match, which
        may name an address added a moment ago whose notice is still on its way.
        """
        key = database_key(session)
        if not verify and self.trusted(session):
            return self._books[key]
        mark = self._changes.get(key, 0)
        row = session.execute(_VERSION).one()
        version = (int(row[0]), int(row[1]), int(row[2]))
        book = self._books.get(key)
        if book is None or book.version != version:
            with self._build:
                book = self._books.get(key)
                if book is None or book.version != version:
                    book = self._books[key] = _load(session, version)
        with self._lock:
            if self._books.get(key) is book and self._seen.get(key, -1) < mark:
                self._seen[key] = mark
        return book

    def peek(self, session: Session) -> Book | None:
        """The loaded book of the session's database, if any (no check, no query)."""
        return self._books.get(database_key(session))

    def changed(self, key: str) -> None:
        """A notice arrived (or may have been missed): check the version at the next use."""
        with self._lock:
            self._changes[key] = self._changes.get(key, 0) + 1

    def follow(self, key: str, listener: Hashable, on: bool) -> None:
        """Whether `listener` (a LISTEN) delivers this database's address notices to `changed`."""
        with self._lock:
            listeners = self._followed.setdefault(key, set())
            (listeners.add if on else listeners.discard)(listener)
            self._changes[key] = self._changes.get(key, 0) + 1  # re-check once either way

    def clear(self) -> None:
        """Forget every book (tests)."""
        with self._lock:
            self._books.clear()


def _load(session: Session, version: tuple[int, int, int]) -> Book:
    matcher = AddressBook(session)
    matcher.session = None  # shared across requests: it never queries (`structural`)
    entrances = {
        r.id: Entrance(float(r.lon), float(r.lat), r.building, r.courtyard_code, r.courtyard)
        for r in session.execute(_DETAILS)
    }
    return Book(version, matcher, entrances)


def remember(
    book: Book, key: Hashable, stamp: Hashable, body: str, size: int = ANSWER_CACHE_SIZE
) -> None:
    """Keep a finished answer (JSON text of the results) made under `stamp`, `size` at most."""
    if size <= 0:
        return
    with ADDRESSES._lock:
        book.answers[key] = (stamp, body)
        book.answers.move_to_end(key)
        while len(book.answers) > size:
            book.answers.popitem(last=False)


def recall(book: Book, key: Hashable, stamp: Hashable) -> str | None:
    """A kept answer for `key` made under the same `stamp` (grid and contacts), else None."""
    hit = book.answers.get(key)
    if hit is None or hit[0] != stamp:
        return None
    return hit[1]


ADDRESSES = AddressCache()


def follow_addresses(*, session: Session, listening: bool, listener: Hashable = None) -> None:
    """A LISTEN now follows (or stopped following) the session database's address changes."""
    ADDRESSES.follow(database_key(session), listener, listening)


def addresses_changed(*, session: Session) -> None:
    """An address notice arrived for the session's database."""
    ADDRESSES.changed(database_key(session))
