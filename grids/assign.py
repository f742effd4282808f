"""Who is responsible for a located point: the level-1 grid worker and the service station.

责任主体唯一 — exactly one responsible party: the level-1 grid worker of the
level-1 cell (workers are tied to cell *codes*, so a worker keeps their cell
through revisions that keep the code).  Points handled by fallback (no cell)
have no worker; the community's service station takes them.

`assign_for_chain` reads the database (used when a case is written);
`contacts_for` answers from a per-process cache refreshed every
`CONTACT_TTL_S` seconds (used by the hot ``GET /locate``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.locate import Location, database_key

RESPONSIBLE_FIRST = "on_duty DESC, id"
"""Among workers of one cell, who is responsible: on duty first, then the lowest id."""

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
    """Id of the worker responsible for a located chain: the level-1 worker of its L1 cell.

    Returns None when the chain has no level-1 cell (community/street fallback)
    or no worker serves that cell; the case then waits in the community's queue.
    An off-duty worker stays responsible (dispatchers reassign with the
    nearest-workers list); when several workers share a cell the on-duty one
    with the lowest id is chosen.
    """
    worker = responsible_worker(session=session, chain=chain)
    return worker.id if worker else None


def responsible_worker(*, session: Session, chain: Location) -> WorkerContact | None:
    """The contact card of the worker `assign_for_chain` picks (one query)."""
    if chain.l1_code is None:
        return None
    r = session.execute(
        text(
            "SELECT id, code, name, phone, level, on_duty FROM workers "  # noqa: S608 - constant
            f"WHERE level = 1 AND cell_code = :code ORDER BY {RESPONSIBLE_FIRST} LIMIT 1"
        ),
        {"code": chain.l1_code},
    ).first()
    return WorkerContact(r.id, r.code, r.name, r.phone, r.level, r.on_duty) if r else None


def level1_workers_for(*, session: Session, cell_codes: Sequence[str]) -> dict[str, int]:
    """`assign_for_chain` for many level-1 cells at once (re-routing after a publish).

    Same rule, one query: the level-1 worker whose `cell_code` is the cell's code,
    on duty first, then the lowest id; a cell without a worker is absent.
    """
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (cell_code) cell_code, id FROM workers WHERE level = 1"  # noqa: S608
            f" AND cell_code = ANY(:codes) ORDER BY cell_code, {RESPONSIBLE_FIRST}"
        ),
        {"codes": sorted(set(cell_codes))},
    ).all()
    return {r.cell_code: r.id for r in rows}


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


def forget_contacts() -> None:
    """Drop the cached contact book (tests, or after editing workers)."""
    _BOOK.clear()
