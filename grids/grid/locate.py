"""Point → street, community, level-1, level-2, level-3 cell: the routing step of every case.

The grid lives in memory (`grids.grid.grid_snapshot`, kept by `grids.grid.grid_cache`): the
live grid is loaded once per process and database, and replaced when a revision is published — the
planning side sends ``NOTIFY wangge_grid_published, '<revision id>'`` inside its
publishing transaction, and every server process LISTENs (`geo_api.background.case_tasks`),
stops trusting its copy (`grid_changed`) and reloads it (`refresh_index`).
Only while a LISTEN follows the database is the cached grid used without asking
it; otherwise each live locate first reads the grid's version
(`grids.grid.live_grid`).  Intake reads that version under the live grid's share
lock and passes it in, so a case is always routed by the grid its transaction
commits against.  A moment in the past (``at``) is answered from the grid valid
then (``valid_from <= at < coalesce(valid_to, infinity)``), cached per stretch
of time in which no cell changed.

Semantics (covers + lowest-code tie-break, tolerance, fallbacks) are those of
`grids.grid.grid_snapshot`; the answer agrees with PostGIS ``ST_Covers``.
Set-based work in the database (a publish moving cases, the impact preview,
balance) asks the same rule of SQL: `grids.grid.locate_sql`.
Coordinates are WGS-84 degrees unless a ``crs`` says otherwise; distances metres.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sqlalchemy.orm import Session

from grids.config import resolve_tolerance
from grids.grid.dask_locate import DASK_MIN_POINTS, locate_on_cluster
from grids.grid.grid_cache import GRIDS, change_points, database_key
from grids.grid.grid_snapshot import (
    METHODS,
    OUTSIDE,
    CellChains,
    GridSnapshot,
    merge_chains,
)
from grids.grid.live_grid import live_grid_version
from layers.analytics.dask_scheduler import dask_client
from layers.core.constants import GRID_PUBLISHED_CHANNEL
from layers.core.crs import to_wgs84
from layers.core.errors import InvalidInputError, UnprocessableError

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = GRID_PUBLISHED_CHANNEL
"""PostgreSQL channel a publish notifies (payload: the revision id as text)."""


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


def refresh_index(*, session: Session | None = None) -> None:
    """Forget cached grids (of the session's database, or all); reload the live one if given one.

    Called by the LISTEN thread on ``wangge_grid_published`` and by anyone who
    changed grid cells and wants the next locate to see them immediately.
    """
    if session is None:
        GRIDS.clear()
    else:
        GRIDS.reload(session)


def grid_changed(*, session: Session) -> None:
    """A publish committed in the session's database: check before trusting the cached grid.

    Cheap (no database): until the live grid is reloaded, or found current, every
    locate reads the grid's version first.  Called on a publish notice and by the
    publishing transaction itself after it commits.
    """
    GRIDS.changed(database_key(session))


def follow_publishes(*, session: Session, listening: bool, listener: Hashable = None) -> None:
    """A LISTEN (`listener`) now follows, or stopped following, the session database's publishes.

    While one does, the cached live grid answers from memory alone (the hot path
    of `GET /locate`); when it starts, the cache is first brought up to date.
    Without one, each locate compares the cached grid's version with the database's.
    """
    key = database_key(session)
    if listening:
        GRIDS.live(session, version=live_grid_version(session=session))
    GRIDS.follow(key, listener, listening)


def live_ready(*, session: Session) -> bool:
    """True when `locate_one` without `at` answers from memory alone (no database, no load)."""
    return GRIDS.ready(session)


def snapshot_for(
    *, session: Session, at: datetime | None = None, version: int | None = None
) -> GridSnapshot:
    """The grid valid at `at` (default: now, the cached live grid, at least as new as `version`).

    A caller holding the live grid (`grids.grid.live_grid.hold_live_grid`) passes the
    version it read, so the answer is the grid its transaction writes against.
    """
    if at is None:
        return GRIDS.live(session, version)
    return GRIDS.past(session, _aware(at))


def point_to_cells(
    lons: ArrayLike,
    lats: ArrayLike,
    *,
    session: Session | None = None,
    at: datetime | ArrayLike | None = None,
    crs: str = "wgs84",
    tolerance_m: float | None = None,
    snapshot: GridSnapshot | None = None,
    scheduler: str | None = None,
) -> CellChains:
    """Locate many points at once; `at` may be one moment or one per point.

    Returns a `CellChains` of arrays (positions, ``ids(layer)``, ``codes(layer)``,
    ``method`` codes with -1 = outside, ``distance_m``, ``revision_id``).  Either
    pass a `session` (the cached grid is used) or a ready `snapshot`; `tolerance_m`
    defaults to the configured one (`grids.config.resolve_tolerance`).  With a Dask
    `scheduler` (local:N or an address), a batch of at least `DASK_MIN_POINTS`
    is located by its workers (`grids.grid.dask_locate`), with the same answers.
    """
    tolerance_m = resolve_tolerance(tolerance_m)
    xs, ys = to_wgs84(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), crs)
    xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
    with _locator(scheduler, len(xs)) as locate:
        if snapshot is not None:
            return locate(snapshot, xs, ys, tolerance_m)
        if session is None:
            raise ValueError("point_to_cells needs a session or a snapshot")
        if at is None or isinstance(at, datetime):
            return locate(snapshot_for(session=session, at=at), xs, ys, tolerance_m)
        return _locate_over_time(session, xs, ys, at, tolerance_m, locate)


Locator = Callable[[GridSnapshot, np.ndarray, np.ndarray, float], CellChains]


def _in_process(snapshot: GridSnapshot, xs, ys, tolerance_m: float) -> CellChains:
    return snapshot.locate(xs, ys, tolerance_m=tolerance_m)


def _on_cluster(snapshot: GridSnapshot, xs, ys, tolerance_m: float) -> CellChains:
    return locate_on_cluster(snapshot, xs, ys, tolerance_m=tolerance_m)


@contextmanager
def _locator(scheduler: str | None, points: int) -> Iterator[Locator]:
    """In-process, or the workers of `scheduler` (open for the call) for a large batch."""
    if not scheduler or points < DASK_MIN_POINTS:
        yield _in_process
        return
    with dask_client(scheduler):
        yield _on_cluster


def _locate_over_time(
    session: Session, xs, ys, at: ArrayLike, tolerance_m: float, locate: Locator = _in_process
) -> CellChains:
    """Group points by the stretch of grid validity their moment falls in; locate per group."""
    moments = pd.Series(pd.to_datetime(at, utc=True))
    if len(moments) != len(xs):
        raise ValueError("`at` must give one moment per point")
    if moments.isna().any():
        raise InvalidInputError("every point needs a moment", code="invalid_time")
    points = change_points(session)
    seconds = ((moments - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy()
    edges = np.array([p.timestamp() for p in points], dtype=float)
    group = np.searchsorted(edges, seconds, side="right")
    parts: list[tuple[np.ndarray, CellChains]] = []
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        moment = moments.iloc[int(sel[0])].to_pydatetime()
        snap = GRIDS.past(session, moment, points)
        parts.append((sel, locate(snap, xs[sel], ys[sel], tolerance_m)))
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
    tolerance_m: float | None = None,
    version: int | None = None,
    snapshot: GridSnapshot | None = None,
) -> Location:
    """Locate one point; 400 for bad coordinates, 422 ``outside_district`` outside it.

    `version`: the live grid's version the caller read under its share lock
    (`grids.grid.live_grid.hold_live_grid`); the cached grid is reloaded if older.
    `snapshot`: locate in this grid (a caller that checks its version itself,
    as intake's one statement does).
    """
    if crs == "wgs84":
        x, y = float(lon), float(lat)
    else:
        lon84, lat84 = to_wgs84(lon, lat, crs)
        x, y = float(lon84), float(lat84)
    if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInputError(
            "lon/lat must be finite degrees (lon -180..180, lat -90..90)",
            code="invalid_coordinates",
        )
    snap = snapshot or snapshot_for(
        session=session, at=at, version=None if at is not None else version
    )
    if snap.empty:
        raise UnprocessableError("no grid is loaded for that time", code="no_grid")
    chains = snap.locate_point(x, y, tolerance_m=resolve_tolerance(tolerance_m))
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
