"""Who is responsible for a located point: the level-1 grid worker and the service station.

责任主体唯一 — exactly one responsible party: the level-1 grid worker of the
level-1 cell (workers are tied to cell *codes*, so a worker keeps their cell
through revisions that keep the code).  Points handled by fallback (no cell)
have no worker; the community's service station takes them.

`assign_for_chain` reads the database (used when a case is written) and follows
the duty rule of `grids.cases.duty` (the cell's worker when on duty, else the
configured substitute, else the nearest on-duty level-1 worker of the community);
`contacts_for` answers from a per-process cache refreshed every
`CONTACT_TTL_S` seconds (used by the hot ``GET /locate``): it names the cell's
own worker, on duty or not, as the one who serves the address.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.duty import Assignment, assign_point
from grids.grid.locate import Location, database_key

RESPONSIBLE_FIRST = "on_duty DESC, id"
"""Among workers of one cell, whose cell it is: on duty first, then the lowest id."""

CONTACT_TTL_S = 60.0
"""How long `contacts_for` may answer from its cache."""


@dataclass(frozen=True)
class WorkerContact:
    """A grid worker as shown to callers; the phone is for staff only."""

    id: int
    code: str
    name: str
    phone: str | None
    level: int
    on_duty: bool


@dataclass(frozen=True)
class StationContact:
    """A community's comprehensive service station (综合服务管理站)."""

    id: int
    name: str
    address: str | None
    phone: str | None
    opening_hours: str | None


def assign_for_chain(*, session: Session, chain: Location) -> int | None:
    """Id of the worker who takes a case at a located chain (`assignment_for`).

    None when the chain has no level-1 cell (community/street fallback) or nobody
    of the community is on duty; the case then waits in the community's queue.
    """
    return assignment_for(session=session, chain=chain).worker_id


def assignment_for(*, session: Session, chain: Location) -> Assignment:
    """Who takes a case located at `chain`, and why (the duty rule of `grids.cases.duty`)."""
    return assign_point(
        session=session,
        l1_code=chain.l1_code,
        community_id=chain.community_id,
        lon=chain.lon,
        lat=chain.lat,
    )


def responsible_worker(*, session: Session, chain: Location) -> WorkerContact | None:
    """The contact card of the worker `assign_for_chain` picks."""
    return worker_contact(session=session, worker_id=assign_for_chain(session=session, chain=chain))


def worker_contact(*, session: Session, worker_id: int | None) -> WorkerContact | None:
    """A worker's contact card (fresh from the database)."""
    if worker_id is None:
        return None
    row = session.execute(
        text("SELECT id, code, name, phone, level, on_duty FROM workers WHERE id = :w"),
        {"w": worker_id},
    ).first()
    return (
        WorkerContact(row.id, row.code, row.name, row.phone, row.level, row.on_duty)
        if row
        else None
    )


class _ContactBook:
    """Level-1 workers by cell code and stations by community, per database, with a TTL."""

    def __init__(self) -> None:
        self._books: dict[str, tuple[float, dict, dict]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> tuple[dict[str, WorkerContact], dict[int, StationContact]]:
        key = database_key(session)
        book = self._books.get(key)
        if book is None or time.monotonic() - book[0] > CONTACT_TTL_S:
            with self._lock:
                book = self._books.get(key)
                if book is None or time.monotonic() - book[0] > CONTACT_TTL_S:
                    book = (time.monotonic(), *_load(session))
                    self._books[key] = book
        return book[1], book[2]

    def fresh(self, session: Session) -> bool:
        book = self._books.get(database_key(session))
        return book is not None and time.monotonic() - book[0] <= CONTACT_TTL_S

    def stamp(self, session: Session) -> float | None:
        book = self._books.get(database_key(session))
        return book[0] if book is not None else None

    def clear(self) -> None:
        with self._lock:
            self._books.clear()


def _load(session: Session) -> tuple[dict[str, WorkerContact], dict[int, StationContact]]:
    workers: dict[str, WorkerContact] = {}
    # The last row per key wins: on duty first, then the lowest id (as `assign_for_chain`).
    for r in session.execute(
        text(
            "SELECT id, code, name, phone, level, on_duty, cell_code FROM workers "
            "WHERE level = 1 AND cell_code IS NOT NULL ORDER BY on_duty, id DESC"
        )
    ):
        workers[r.cell_code] = WorkerContact(r.id, r.code, r.name, r.phone, r.level, r.on_duty)
    stations: dict[int, StationContact] = {}
    for r in session.execute(
        text(
            "SELECT id, name, address, phone, opening_hours, community_id FROM service_points "
            "WHERE kind = 'service_station' AND community_id IS NOT NULL ORDER BY id DESC"
        )
    ):
        stations[r.community_id] = StationContact(r.id, r.name, r.address, r.phone, r.opening_hours)
    return workers, stations


_BOOK = _ContactBook()


def contacts_for(
    *, session: Session, location: Location
) -> tuple[WorkerContact | None, StationContact | None]:
    """The responsible level-1 worker and the service station of a location (cached)."""
    workers, stations = _BOOK.get(session)
    worker = workers.get(location.l1_code) if location.l1_code else None
    station = stations.get(location.community_id) if location.community_id else None
    return worker, station


def contacts_ready(*, session: Session) -> bool:
    """True when `contacts_for` answers from memory alone."""
    return _BOOK.fresh(session)


def contacts_stamp(*, session: Session) -> float | None:
    """When the cached contact book was loaded (None: not loaded): answers made from it say so."""
    return _BOOK.stamp(session)


def forget_contacts() -> None:
    """Drop the cached contact book (tests, or after editing workers)."""
    _BOOK.clear()
