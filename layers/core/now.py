"""Where "now" comes from: the wall clock in service, a fixed start in tests and replays.

Every use case that stamps or compares a time takes `now` from its caller, and
the caller gets it from one `Clock` (the app's `app.state.clock`, a CLI's
`--now`).  Neither the database's `now()` nor `datetime.now()` may decide a
result on their own: a suite that was green yesterday must be green today, and
a demo generated for one date must behave the same whatever day it is served.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""A source of timezone-aware UTC datetimes."""


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class ClockFrom:
    """A clock that starts at `start` and then runs at the pace of the wall clock.

    Time still moves (orderings, timeouts and "newest first" keep working), but
    the date is the one chosen, whatever day the process runs.
    """

    start: datetime
    _origin: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("a clock's start must be timezone-aware")
        self.start = self.start.astimezone(UTC)

    def __call__(self) -> datetime:
        """`start` plus the wall time elapsed since this clock was made."""
        return self.start + timedelta(seconds=time.monotonic() - self._origin)
