"""In-process memory for authentication: failed attempts per client, and recent last-use writes.

Both live in the server process (`app.state.auth_guard`), not in the database,
so that a request with a good key or no key pays no extra round trip: asking
"is this address blocked?" is a dictionary look-up.  The price is that each
worker process counts on its own (with `--workers N` a client gets up to N
times the allowance before every process blocks it); the audit log, which is
shared, still records every failure.  Times come from the caller (the app's
clock), never from the wall clock here.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta


class FailureThrottle:
    """At most `limit` failures per sliding `window` and bucket (an address, a key prefix).

    A bucket with `limit` failures inside the window is blocked until the
    oldest of them leaves the window.  Memory is bounded: beyond `max_buckets`
    the buckets failed least recently are forgotten first.
    """

    def __init__(self, *, limit: int, window: timedelta, max_buckets: int = 50_000) -> None:
        self.limit = limit
        self.window = window
        self.max_buckets = max_buckets
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, bucket: str, now: datetime) -> deque[datetime] | None:
        failures = self._failures.get(bucket)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[bucket]
            return None
        return failures

    def retry_after(self, bucket: str, now: datetime) -> int | None:
        """Seconds until `bucket` may try again, or None when it is not blocked."""
        with self._lock:
            failures = self._recent(bucket, now)
            if failures is None or len(failures) < self.limit:
                return None
            wait = (failures[-self.limit] + self.window - now).total_seconds()
            return max(1, math.ceil(wait))

    def fail(self, bucket: str, now: datetime) -> bool:
        """Count a failure; True when it is the one that blocks the bucket."""
        with self._lock:
            failures = self._recent(bucket, now)
            if failures is None:
                failures = self._failures[bucket] = deque(maxlen=self.limit)
            failures.append(now)
            self._failures.move_to_end(bucket)
            while len(self._failures) > self.max_buckets:
                self._failures.popitem(last=False)
            return len(failures) >= self.limit


class UseMarks:
    """When this process last wrote a key's (or session's) last use, to write it once a minute.

    The database update is conditional as well (several processes), so this is
    only what keeps a hot key from costing a statement on every request.
    """

    def __init__(self, every: timedelta, max_entries: int = 100_000) -> None:
        self.every = every
        self.max_entries = max_entries
        self._marks: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, ident: str, now: datetime) -> bool:
        """True (and marked) when `ident` was not marked within `every` before `now`."""
        with self._lock:
            last = self._marks.get(ident)
            if last is not None and now - last < self.every:
                return False
            if len(self._marks) >= self.max_entries:
                self._marks.clear()  # rare; the next uses are merely written once more
            self._marks[ident] = now
            return True
