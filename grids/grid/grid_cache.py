"""The grids held in memory, per database: the live one, and a few of the past.

`grids.grid.locate` answers from these.  The live grid is trusted without asking
the database only while a LISTEN follows that database's publishes and no
publish notice arrived since it was loaded; otherwise each use reads the live
grid's version (`grids.grid.live_grid`) and reloads an older grid.  Past grids are
kept per stretch of time in which no cell opened or closed.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.grid_snapshot import GridSnapshot
from grids.grid.live_grid import live_grid_version
from grids.grid.snapshot_load import load_snapshot

logger = logging.getLogger(__name__)

HISTORY_CACHE_SIZE = 4

_CHANGE_POINTS = text(
    "SELECT t FROM (SELECT valid_from AS t FROM grid_cells "
    "UNION SELECT valid_to FROM grid_cells WHERE valid_to IS NOT NULL) s ORDER BY t"
)


class SnapshotCache:
    """Snapshots per database: the live one, and a few of the past by validity stretch.

    The live snapshot answers without asking the database only while it is
    *trusted*: a LISTEN follows that database's publishes (`follow`) and no
    notice of a change (`changed`) arrived since the snapshot was loaded or
    confirmed.  Otherwise every use reads the live grid's version first and
    reloads when the snapshot is older — so a server that lost its LISTEN, or
    never had one, still never answers from a grid a publish has replaced.
    """

    def __init__(self) -> None:
        self._live: dict[str, GridSnapshot] = {}
        self._past: OrderedDict[tuple[str, datetime | None], GridSnapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._build = threading.Lock()
        self._followed: dict[str, set[Hashable]] = {}
        self._changes: dict[str, int] = {}
        """Notices of a change per database (a counter)."""
        self._seen: dict[str, int] = {}
        """The notice count the live snapshot is known to be current for."""
        self.generation = 0

    def _trusted(self, key: str) -> bool:
        return bool(self._followed.get(key)) and self._seen.get(key, -1) == self._changes.get(
            key, 0
        )

    def ready(self, session: Session) -> bool:
        """True when the live grid is loaded, current and trusted (no database, no load)."""
        key = database_key(session)
        return _fits(self._live.get(key), None) and self._trusted(key)

    def live(self, session: Session, version: int | None = None) -> GridSnapshot:
        """The live snapshot, at least as new as `version` (read here when not trusted)."""
        key = database_key(session)
        mark = None
        if version is None and not self._trusted(key):
            mark = self._changes.get(key, 0)
            version = live_grid_version(session=session)
        snap = self._live.get(key)
        if not _fits(snap, version):
            with self._build:
                snap = self._live.get(key)
                if not _fits(snap, version):
                    snap = self._swap_in(session, key)
        assert snap is not None
        if mark is not None:
            self._confirm(key, snap, mark)
        return snap

    def _confirm(self, key: str, snap: GridSnapshot, mark: int) -> None:
        """`snap` was found current after `mark` notices: trust it up to there."""
        with self._lock:
            if self._live.get(key) is snap and self._seen.get(key, -1) < mark:
                self._seen[key] = mark

    def _swap_in(self, session: Session, key: str) -> GridSnapshot:
        """Load the live grid afresh and swap it in (call holding `_build`)."""
        mark = self._changes.get(key, 0)
        snap = self._load(session, None, raster=True)
        with self._lock:
            self.generation += 1
            self._live[key] = snap
            self._seen[key] = mark
            for k in [k for k in self._past if k[0] == key]:
                del self._past[k]
        return snap

    def past(
        self, session: Session, at: datetime, points: list[datetime] | None = None
    ) -> GridSnapshot:
        """The grid valid at `at` (`points`: the change points, when the caller has them)."""
        key = database_key(session)
        start, until = _stretch(points if points is not None else change_points(session), at)
        live = self._live.get(key)
        if live is not None and live.valid_from == start and live.valid_until == until:
            return live
        with self._lock:
            snap = self._past.get((key, start))
            if snap is not None:
                self._past.move_to_end((key, start))
                return snap
        with self._build:
            snap = self._load(session, at, raster=False)
        with self._lock:
            self._past[(key, start)] = snap
            while len(self._past) > HISTORY_CACHE_SIZE:
                self._past.popitem(last=False)
        return snap

    def _load(self, session: Session, at: datetime | None, *, raster: bool) -> GridSnapshot:
        """The grid valid at `at`, or the live grid (`at` None: the cells no revision closed)."""
        # The version is read before the cells: a publish committing in between makes
        # the snapshot look older than it is (one extra reload), never newer.
        version = live_grid_version(session=session) if at is None else None
        points = change_points(session)
        if at is None:  # in force since the last change, until a publish replaces it
            start, until = (points[-1] if points else None), None
        else:
            start, until = _stretch(points, at)
        snap = load_snapshot(session=session, at=at, raster=raster)
        snap.valid_from, snap.valid_until, snap.version = start, until, version
        logger.info(
            "grid loaded for %s: %s, revision %s",
            "now (live)" if at is None else at.isoformat(),
            snap.stats,
            snap.revision_id,
        )
        return snap

    def clear(self, key: str | None = None) -> None:
        """Forget the grids of one database (or of all)."""
        with self._lock:
            self.generation += 1
            if key is None:
                self._live.clear()
                self._past.clear()
            else:
                self._live.pop(key, None)
                for k in [k for k in self._past if k[0] == key]:
                    del self._past[k]

    def reload(self, session: Session) -> None:
        """Load the live grid afresh, then swap it in: readers keep the old one meanwhile."""
        with self._build:
            self._swap_in(session, database_key(session))

    def changed(self, key: str) -> None:
        """A publish committed: stop trusting the live snapshot until it is reloaded."""
        with self._lock:
            self._changes[key] = self._changes.get(key, 0) + 1

    def follow(self, key: str, listener: Hashable, on: bool) -> None:
        """Whether `listener` (a LISTEN) delivers this database's publish notices to `changed`."""
        with self._lock:
            listeners = self._followed.setdefault(key, set())
            (listeners.add if on else listeners.discard)(listener)


def _fits(snap: GridSnapshot | None, version: int | None) -> bool:
    """A live snapshot at least as new as `version` (any, without one)."""
    if snap is None:
        return False
    return version is None or (snap.version is not None and snap.version >= version)


GRIDS = SnapshotCache()
"""The process's grids (one per database)."""


_KEYS: dict[int, tuple[object, str]] = {}


def database_key(session: Session) -> str:
    """Which database a session talks to (the cache key; no password)."""
    engine = session.get_bind().engine
    hit = _KEYS.get(id(engine))
    if hit is None or hit[0] is not engine.url:  # ids are reused once an engine is gone
        hit = _KEYS[id(engine)] = (engine.url, engine.url.render_as_string(hide_password=True))
    return hit[1]


def change_points(session: Session) -> list[datetime]:
    """Every moment a cell opened or closed, in order."""
    return list(session.execute(_CHANGE_POINTS).scalars())


def _stretch(points: list[datetime], at: datetime) -> tuple[datetime | None, datetime | None]:
    """The [start, until) around `at` in which no cell opened or closed."""
    i = bisect.bisect_right(points, at)
    return (points[i - 1] if i > 0 else None), (points[i] if i < len(points) else None)
