"""Point → street, community, level-1, level-2, level-3 cell: the routing step of every case.

The grid lives in memory (`grids.grid_snapshot`): the live grid is loaded once
per process and database, and replaced when a revision is published — the
planning side sends ``NOTIFY wangge_grid_published, '<revision id>'`` inside its
publishing transaction, and every server process LISTENs (`geo_api.case_tasks`),
stops trusting its copy (`grid_changed`) and reloads it (`refresh_index`).
Only while a LISTEN follows the database is the cached grid used without asking
it; otherwise each live locate first reads the grid's version
(`grids.live_grid`).  Intake reads that version under the live grid's share
lock and passes it in, so a case is always routed by the grid its transaction
commits against.  A moment in the past (``at``) is answered from the grid valid
then (``valid_from <= at < coalesce(valid_to, infinity)``), cached per stretch
of time in which no cell changed.

Semantics (covers + lowest-code tie-break, tolerance, fallbacks) are those of
`grids.grid_snapshot`; the answer agrees with PostGIS ``ST_Covers``.
Coordinates are WGS-84 degrees unless a ``crs`` says otherwise; distances metres.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid_snapshot import (
    METHODS,
    OUTSIDE,
    CellChains,
    GridSnapshot,
    load_snapshot,
    merge_chains,
)
from grids.live_grid import live_grid_version
from layers.crs import to_wgs84
from layers.errors import InvalidInputError, UnprocessableError

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "wangge_grid_published"
"""PostgreSQL channel a publish notifies (payload: the revision id as text)."""
DEFAULT_TOLERANCE_M = 30.0
"""How far from every cell a point may be and still go to the nearest one."""
HISTORY_CACHE_SIZE = 4

_CHANGE_POINTS = text(
    "SELECT t FROM (SELECT valid_from AS t FROM grid_cells "
    "UNION SELECT valid_to FROM grid_cells WHERE valid_to IS NOT NULL) s ORDER BY t"
)


@dataclass(frozen=True)
class Location:
    """Where one point belongs: the chain of areas, how it was found, in which revision."""

    lon: float
    lat: float
    method: str
    revision_id: int | None
    distance_m: float | None
    street_id: int | None
    street_code: str | None
    street_name: str | None
    community_id: int | None
    community_code: str | None
    community_name: str | None
    l1_id: int | None
    l1_code: str | None
    l1_name: str | None
    l2_id: int | None
    l2_code: str | None
    l2_name: str | None
    l3_id: int | None
    l3_code: str | None
    l3_name: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain fields, for JSON."""
        return dict(self.__dict__)


class _SnapshotCache:
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
        return _fits(self._live.get(key), datetime.now(UTC), None) and self._trusted(key)

    def live(self, session: Session, version: int | None = None) -> GridSnapshot:
        """The live snapshot, at least as new as `version` (read here when not trusted)."""
        key = database_key(session)
        now = datetime.now(UTC)
        mark = None
        if version is None and not self._trusted(key):
            mark = self._changes.get(key, 0)
            version = live_grid_version(session=session)
        snap = self._live.get(key)
        if not _fits(snap, now, version):
            with self._build:
                snap = self._live.get(key)
                if not _fits(snap, now, version):
                    snap = self._swap_in(session, key, now)
        if mark is not None:
            self._confirm(key, snap, mark)
        assert snap is not None
        return snap

    def _confirm(self, key: str, snap: GridSnapshot, mark: int) -> None:
        """`snap` was found current after `mark` notices: trust it up to there."""
        with self._lock:
            if self._live.get(key) is snap and self._seen.get(key, -1) < mark:
                self._seen[key] = mark

    def _swap_in(self, session: Session, key: str, now: datetime) -> GridSnapshot:
        """Load the live grid afresh and swap it in (call holding `_build`)."""
        mark = self._changes.get(key, 0)
        snap = self._load(session, now, raster=True, live=True)
        with self._lock:
            self.generation += 1
            self._live[key] = snap
            self._seen[key] = mark
            for k in [k for k in self._past if k[0] == key]:
                del self._past[k]
        return snap

    def past(self, session: Session, at: datetime, points: list[datetime] | None = None):
        key = database_key(session)
        start, until = _stretch(points if points is not None else _change_points(session), at)
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

    def _load(
        self, session: Session, at: datetime, *, raster: bool, live: bool = False
    ) -> GridSnapshot:
        # The version is read before the cells: a publish committing in between makes
        # the snapshot look older than it is (one extra reload), never newer.
        version = live_grid_version(session=session) if live else None
        start, until = _stretch(_change_points(session), at)
        snap = load_snapshot(session=session, at=at, raster=raster)
        snap.valid_from, snap.valid_until, snap.version = start, until, version
        logger.info(
            "grid loaded for %s: %s, revision %s", at.isoformat(), snap.stats, snap.revision_id
        )
        return snap

    def clear(self, key: str | None = None) -> None:
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
            self._swap_in(session, database_key(session), datetime.now(UTC))

    def changed(self, key: str) -> None:
        """A publish committed: stop trusting the live snapshot until it is reloaded."""
        with self._lock:
            self._changes[key] = self._changes.get(key, 0) + 1

    def follow(self, key: str, listener: Hashable, on: bool) -> None:
        """Whether `listener` (a LISTEN) delivers this database's publish notices to `changed`."""
        with self._lock:
            listeners = self._followed.setdefault(key, set())
            (listeners.add if on else listeners.discard)(listener)


def _fits(snap: GridSnapshot | None, now: datetime, version: int | None) -> bool:
    """A live snapshot still valid at `now` and at least as new as `version`."""
    if snap is None or (snap.valid_until is not None and now >= snap.valid_until):
        return False
    return version is None or (snap.version is not None and snap.version >= version)


_CACHE = _SnapshotCache()


_KEYS: dict[int, tuple[object, str]] = {}


def database_key(session: Session) -> str:
    """Which database a session talks to (the cache key; no password)."""
    engine = session.get_bind().engine
    hit = _KEYS.get(id(engine))
    if hit is None or hit[0] is not engine.url:  # ids are reused once an engine is gone
        hit = _KEYS[id(engine)] = (engine.url, engine.url.render_as_string(hide_password=True))
    return hit[1]


def _change_points(session: Session) -> list[datetime]:
    return list(session.execute(_CHANGE_POINTS).scalars())


def _stretch(points: list[datetime], at: datetime) -> tuple[datetime | None, datetime | None]:
    """The [start, until) around `at` in which no cell opened or closed."""
    i = bisect.bisect_right(points, at)
    return (points[i - 1] if i > 0 else None), (points[i] if i < len(points) else None)


def refresh_index(*, session: Session | None = None) -> None:
    """Forget cached grids (of the session's database, or all); reload the live one if given one.

    Called by the LISTEN thread on ``wangge_grid_published`` and by anyone who
    changed grid cells and wants the next locate to see them immediately.
    """
    if session is None:
        _CACHE.clear()
    else:
        _CACHE.reload(session)


def grid_changed(*, session: Session) -> None:
    """A publish committed in the session's database: check before trusting the cached grid.

    Cheap (no database): until the live grid is reloaded, or found current, every
    locate reads the grid's version first.  Called on a publish notice and by the
    publishing transaction itself after it commits.
    """
    _CACHE.changed(database_key(session))


def follow_publishes(*, session: Session, listening: bool, listener: Hashable = None) -> None:
    """A LISTEN (`listener`) now follows, or stopped following, the session database's publishes.

    While one does, the cached live grid answers from memory alone (the hot path
    of `GET /locate`); when it starts, the cache is first brought up to date.
    Without one, each locate compares the cached grid's version with the database's.
    """
    key = database_key(session)
    if listening:
        _CACHE.live(session, version=live_grid_version(session=session))
    _CACHE.follow(key, listener, listening)


def live_ready(*, session: Session) -> bool:
    """True when `locate_one` without `at` answers from memory alone (no database, no load)."""
    return _CACHE.ready(session)


def snapshot_for(
    *, session: Session, at: datetime | None = None, version: int | None = None
) -> GridSnapshot:
    """The grid valid at `at` (default: now, the cached live grid, at least as new as `version`).

    A caller holding the live grid (`grids.live_grid.hold_live_grid`) passes the
    version it read, so the answer is the grid its transaction writes against.
    """
    if at is None:
        return _CACHE.live(session, version)
    return _CACHE.past(session, _aware(at))


def point_to_cells(
    lons: ArrayLike,
    lats: ArrayLike,
    *,
    session: Session | None = None,
    at: datetime | ArrayLike | None = None,
    crs: str = "wgs84",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    snapshot: GridSnapshot | None = None,
) -> CellChains:
    """Locate many points at once; `at` may be one moment or one per point.

    Returns a `CellChains` of arrays (positions, ``ids(layer)``, ``codes(layer)``,
    ``method`` codes with -1 = outside, ``distance_m``, ``revision_id``).  Either
    pass a `session` (the cached grid is used) or a ready `snapshot`.
    """
    xs, ys = to_wgs84(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), crs)
    xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
    if snapshot is not None:
        return snapshot.locate(xs, ys, tolerance_m=tolerance_m)
    if session is None:
        raise ValueError("point_to_cells needs a session or a snapshot")
    if at is None or isinstance(at, datetime):
        snap = snapshot_for(session=session, at=at)
        return snap.locate(xs, ys, tolerance_m=tolerance_m)
    return _locate_over_time(session, xs, ys, at, tolerance_m)


def _locate_over_time(session: Session, xs, ys, at: ArrayLike, tolerance_m: float) -> CellChains:
    """Group points by the stretch of grid validity their moment falls in; locate per group."""
    moments = pd.Series(pd.to_datetime(at, utc=True))
    if len(moments) != len(xs):
        raise ValueError("`at` must give one moment per point")
    if moments.isna().any():
        raise InvalidInputError("every point needs a moment", code="invalid_time")
    points = _change_points(session)
    seconds = ((moments - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy()
    edges = np.array([p.timestamp() for p in points], dtype=float)
    group = np.searchsorted(edges, seconds, side="right")
    parts: list[tuple[np.ndarray, CellChains]] = []
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        moment = moments.iloc[int(sel[0])].to_pydatetime()
        snap = _CACHE.past(session, moment, points)
        parts.append((sel, snap.locate(xs[sel], ys[sel], tolerance_m=tolerance_m)))
    return _merge(parts, len(xs))


def _merge(parts: list[tuple[np.ndarray, CellChains]], n: int) -> CellChains:
    if len(parts) == 1 and len(parts[0][0]) == n:
        return parts[0][1]
    return merge_chains(parts, n)


def locate_one(
    *,
    session: Session,
    lon: float,
    lat: float,
    crs: str = "wgs84",
    at: datetime | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    version: int | None = None,
) -> Location:
    """Locate one point; 400 for bad coordinates, 422 ``outside_district`` outside it.

    `version`: the live grid's version the caller read under its share lock
    (`grids.live_grid.hold_live_grid`); the cached grid is reloaded if older.
    """
    if crs == "wgs84":
        x, y = float(lon), float(lat)
    else:
        x, y = to_wgs84(lon, lat, crs)
        x, y = float(x), float(y)
    if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInputError(
            "lon/lat must be finite degrees (lon -180..180, lat -90..90)",
            code="invalid_coordinates",
        )
    snap = snapshot_for(session=session, at=at, version=None if at is not None else version)
    if snap.empty:
        raise UnprocessableError("no grid is loaded for that time", code="no_grid")
    chains = snap.locate_point(x, y, tolerance_m=tolerance_m)
    if chains.method[0] == OUTSIDE:
        raise UnprocessableError(
            f"the point ({x:.6f}, {y:.6f}) in WGS-84 is outside the district",
            code="outside_district",
            lon=x,
            lat=y,
        )
    return location_at(chains, 0, x, y)


def location_at(chains: CellChains, i: int, lon: float, lat: float) -> Location:
    """The `Location` of point `i` of a batch answer."""
    values: dict[str, Any] = {}
    for layer in ("street", "community", "l1", "l2", "l3"):
        area, p = chains.position(layer, i)
        values[f"{layer}_id"] = int(area.ids[p]) if p >= 0 else None
        values[f"{layer}_code"] = str(area.codes[p]) if p >= 0 else None
        values[f"{layer}_name"] = area.names[p] if p >= 0 else None
    distance = float(chains.distance_m[i])
    revision = int(chains.revision_id[i])
    method = int(chains.method[i])
    return Location(
        lon=lon,
        lat=lat,
        method=METHODS[method] if method >= 0 else "outside",
        revision_id=revision if revision >= 0 else None,
        distance_m=distance if np.isfinite(distance) else None,
        **values,
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInputError("`at` needs a time zone (e.g. 2026-05-01T08:00:00+08:00)")
    return moment.astimezone(UTC)
