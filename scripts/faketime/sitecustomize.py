"""Loaded by every Python process of `make test-any-day` (PYTHONPATH), and only there.

libfaketime 0.9.10 (Debian 12) cannot fake the monotonic clock without breaking timed
waits (`threading.Event.wait` and queue timeouts block for the faked year), so the run
leaves the monotonic clock real (FAKETIME_DONT_FAKE_MONOTONIC=1). Then it mangles the
absolute deadline of `clock_nanosleep`, which `time.sleep` uses: EINVAL. A sleep by a
relative `select` timeout measures the same wait and leaves every date faked.
"""

from __future__ import annotations

import os
import select
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
