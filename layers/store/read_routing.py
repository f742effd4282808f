"""Where a read-only request reads: the replica while it is up and current, else the primary.

Why a router and not two URLs in the routes: a replica can fall behind (a long
import on the primary) or go away (restart, network), and a reader must not
notice either.  The router measures the standby's lag at most every
`recheck_s` seconds (one tiny query, no per-request round trip) and answers
which sessions to use; a request that still meets a dead replica tells the
router (`mark_down`) and is run again on the primary by the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from layers.core.errors import ClusterError
from layers.store.cluster import PrivateCluster
from layers.store.db import normalise_url
from layers.store.replica import ReplicaCluster
from layers.store.settings import DatabaseSettings

logger = logging.getLogger(__name__)

LAG_SQL = text(
    """
    SELECT pg_is_in_recovery() AS standby,
           CASE WHEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) <= 0
                THEN 0.0
                ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp()
                                               - pg_last_xact_replay_timestamp()), 1e9)
           END AS lag_s,
           (SELECT count(*) FROM pg_stat_wal_receiver) AS receivers
    """
)
"""How far behind: 0 when all WAL received is replayed, else the age of the last replayed
commit (an overestimate while the primary writes no commits, so the router errs towards
the primary; unknown, 1e9, before the first commit is replayed).  `receivers` is 0 when
the standby lost its primary: then its lag is unknown too."""


@dataclass(frozen=True)
class ReplicaHealth:
    """The last measurement: usable or not, why, and the lag in seconds (None = unknown)."""

    usable: bool
    reason: str
    lag_s: float | None
    measured_at: float


def replica_service_url(settings: DatabaseSettings, service_url: str) -> str | None:
    """The replica as the server's role sees it, or None when there is none (or reads are off).

    The same role and password as on the primary (a physical standby holds the
    primary's roles), at the replica's host, port and database.
    """
    if not settings.replica_reads:
        return None
    return _at_replica(settings, service_url)


def replica_url(settings: DatabaseSettings, primary_url: str) -> str:
    """`primary_url`'s role at the replica; a clear error when there is no replica."""
    found = _at_replica(settings, primary_url)
    if found is None:
        raise ClusterError(
            "no replica: set WANGGE_REPLICA_DATABASE_URL or run `wangge db start --replica`",
            code="replica_not_initialised",
        )
    return found


def _at_replica(settings: DatabaseSettings, url_of_primary: str) -> str | None:
    if settings.replica_database_url:
        where = make_url(normalise_url(settings.replica_database_url))
    elif settings.database_url:
        return None
    else:
        replica = ReplicaCluster(PrivateCluster(settings))
        if not replica.exists():
            return None
        where = make_url(replica.url())
    url = make_url(url_of_primary).set(host=where.host, port=where.port, database=where.database)
    return url.render_as_string(hide_password=False)


class ReadRouter:
    """Chooses the sessions of read-only work; thread-safe (routes run in a thread pool)."""

    def __init__(
        self,
        primary: sessionmaker[Session],
        replica: Engine | None,
        *,
        max_lag_s: float,
        recheck_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replica_engine = replica
        self.replica = sessionmaker(replica, expire_on_commit=False) if replica else None
        self.max_lag_s = max_lag_s
        self.recheck_s = recheck_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._health: ReplicaHealth | None = None

    def choose(self) -> tuple[sessionmaker[Session], bool]:
        """The sessionmaker to read with, and whether it is the replica's."""
        if self.replica is None:
            return self.primary, False
        health = self.health()
        return (self.replica, True) if health.usable else (self.primary, False)

    def health(self) -> ReplicaHealth:
        """The current measurement, re-taken when older than `recheck_s`."""
        now = self._monotonic()
        with self._lock:
            known = self._health
            if known is not None and now - known.measured_at < self.recheck_s:
                return known
            self._health = self._measure(now)
            return self._health

    def mark_down(self, reason: str) -> None:
        """A request met a dead replica: read from the primary until the next recheck."""
        with self._lock:
            self._health = ReplicaHealth(False, f"down: {reason}", None, self._monotonic())
        logger.warning("replica unavailable, reading from the primary: %s", reason)

    def describe(self) -> dict[str, object]:
        """For the health check: is there a replica, is it used, how far behind."""
        if self.replica is None:
            return {"configured": False}
        health = self.health()
        return {
            "configured": True,
            "serving_reads": health.usable,
            "reason": health.reason,
            "lag_s": None if health.lag_s is None else round(health.lag_s, 3),
            "max_lag_s": self.max_lag_s,
        }

    def _measure(self, now: float) -> ReplicaHealth:
        assert self.replica_engine is not None
        try:
            with self.replica_engine.connect() as conn:
                row = conn.execute(LAG_SQL).one()
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
            return ReplicaHealth(False, f"down: {reason}", None, now)
        if not row.standby:
            return ReplicaHealth(False, "not a standby (promoted?)", None, now)
        if not row.receivers:
            return ReplicaHealth(False, "not streaming from the primary", None, now)
        lag = float(row.lag_s)
        if lag > self.max_lag_s:
            return ReplicaHealth(False, f"behind by {lag:.1f} s", lag, now)
        return ReplicaHealth(True, "streaming", lag, now)
