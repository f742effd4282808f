"""A clock the test moves by hand, put in place of the app's clock for one test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI


class ManualClock:
    """Stands still until `advance` moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def manual_clock(app: FastAPI, start: datetime) -> Iterator[ManualClock]:
    """The app reads "now" from a `ManualClock` starting at `start` inside the block."""
    before = app.state.clock
    clock = ManualClock(start)
    app.state.clock = clock
    try:
        yield clock
    finally:
        app.state.clock = before
