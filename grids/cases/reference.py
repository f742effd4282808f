"""Reference data of intake, cached per process: categories, channels, time limits, calendar.

Districts tune these tables rarely; intake reads them on every report.  The
cache answers for `REFERENCE_TTL_S` seconds, then reads the tables again
(an edit made through this process forgets the cache at once).  The working-day
calendar (the official one plus `calendar_overrides`) is loaded here once, so
the clocks get it as a plain object and never query inside their arithmetic.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.locate import database_key
from layers.tables.calendar_overrides import load_calendar
from layers.tables.work_calendar import WorkCalendar

REFERENCE_TTL_S = 60.0


@dataclass(frozen=True)
class Reference:
    """Category → default urgency, channel codes, (category, urgency) → {step: (amount, clock)}."""

    urgency: dict[str, str]
    channels: frozenset[str]
    limits: dict[tuple[str, str], dict[str, tuple[float, str]]]
    calendar: WorkCalendar


_LOCK = threading.Lock()
_CACHE: dict[str, tuple[float, Reference]] = {}


def reference(*, session: Session) -> Reference:
    """The reference tables of the session's database (at most `REFERENCE_TTL_S` old)."""
    key = database_key(session)
    hit = _CACHE.get(key)
    if hit is not None and time.monotonic() - hit[0] < REFERENCE_TTL_S:
        return hit[1]
    limits: dict[tuple[str, str], dict[str, tuple[float, str]]] = {}
    for r in session.execute(
        text("SELECT category_code, urgency, step, amount, clock FROM time_limits")
    ):
        limits.setdefault((r.category_code, r.urgency), {})[r.step] = (float(r.amount), r.clock)
    ref = Reference(
        urgency=dict(session.execute(text("SELECT code, default_urgency FROM categories")).all()),
        channels=frozenset(session.execute(text("SELECT code FROM channels")).scalars()),
        limits=limits,
        calendar=load_calendar(session=session),
    )
    with _LOCK:
        _CACHE[key] = (time.monotonic(), ref)
    return ref


def work_calendar(*, session: Session) -> WorkCalendar:
    """The district's working-day calendar: official holidays and 调休 plus its overrides."""
    return reference(session=session).calendar


def forget_reference() -> None:
    """Drop the cache (after editing the tables, in tests)."""
    with _LOCK:
        _CACHE.clear()
