"""A grid worker's handheld: positions in batches (the patrol track) and the on-duty switch.

Positions are stored as the worker's track (`worker_positions`) in one
statement per batch; the newest of them, when newer than what is known, becomes
the worker's current position, so the nearest-worker search sees where the
worker really is.  A position from the future (beyond `CLOCK_SKEW`) is refused:
the track is evidence of a patrol.  Starting or ending a shift is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import InvalidInputError
from layers.tables.audit import record
from layers.tables.workers import Worker

CLOCK_SKEW = timedelta(minutes=2)
MAX_BATCH = 1000


@dataclass(frozen=True)
class Fix:
    """One position: when, where (WGS-84), how precise (metres, if the device said)."""

    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None


def record_positions(
    *, session: Session, worker_id: int, fixes: Sequence[Fix], now: datetime
) -> int:
    """Append the fixes to the worker's track and move the worker to the newest; how many."""
    if not fixes:
        return 0
    if len(fixes) > MAX_BATCH:
        raise InvalidInputError(f"at most {MAX_BATCH} positions a batch", code="batch_too_large")
    if max(f.at for f in fixes) > now + CLOCK_SKEW:
        raise InvalidInputError("a position from the future", code="position_in_future")
    rows = sorted(fixes, key=lambda f: f.at)
    session.execute(
        text(
            "INSERT INTO worker_positions (worker_id, at, geom, accuracy_m)"
            " SELECT :w, t.at, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.acc"
            " FROM unnest(CAST(:at AS timestamptz[]), CAST(:lon AS float8[]),"
            " CAST(:lat AS float8[]), CAST(:acc AS float8[])) AS t(at, lon, lat, acc)"
        ),
        {
            "w": worker_id,
            "at": [f.at.astimezone(UTC) for f in rows],
            "lon": [f.lon for f in rows],
            "lat": [f.lat for f in rows],
            "acc": [f.accuracy_m for f in rows],
        },
    )
    last = rows[-1]
    session.execute(
        text(
            "UPDATE workers SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326), position_at = :t"
            " WHERE id = :w AND (position_at IS NULL OR position_at < :t)"
        ),
        {"x": last.lon, "y": last.lat, "t": last.at, "w": worker_id},
    )
    return len(rows)


def set_duty(
    *, session: Session, worker_id: int, on_duty: bool, actor: str, role: str, now: datetime
) -> Worker:
    """Start (True) or end (False) the worker's shift; audited."""
    worker = session.get(Worker, worker_id, with_for_update=True)
    if worker is None:
        raise InvalidInputError("this key belongs to no worker", code="no_worker")
    if worker.on_duty != on_duty:
        worker.on_duty = on_duty
        record(
            session=session,
            actor=actor,
            role=role,
            action="start_shift" if on_duty else "end_shift",
            entity="worker",
            entity_id=worker_id,
            at=now,
        )
    session.flush()
    return worker
