"""Fan-out of new case events to the open case pages: one LISTEN per server, no polling.

A trigger on `incident_events` NOTIFYs ``wangge_case_events`` with the ids of the
cases that gained events (``*`` for a bulk load).  The first page that follows a
case starts this server's listening thread (`CaseEventHub.subscribe`); each
notification wakes exactly the subscribers of those cases, which then read their
case's new events themselves (one indexed query per woken page, none while
nothing happens).  After a (re)connect every subscriber is woken once, since
notifications sent while nobody listened are lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict

from fastapi import FastAPI

from layers.core.constants import CASE_EVENTS_CHANNEL
from layers.store.notify import listen

logger = logging.getLogger(__name__)

EVERY_CASE = 0
"""The "case id" a board subscribes with: woken by every notification (cases and positions)."""


class Subscription:
    """One open page's wake-up call for one case (an `asyncio.Event` set from the LISTEN thread)."""

    def __init__(self, incident_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.incident_id = incident_id
        self.loop = loop
        self.event = asyncio.Event()

    def wake(self) -> None:
        """Thread-safe: set the event on the subscriber's loop."""
        self.loop.call_soon_threadsafe(self.event.set)

    async def wait(self, timeout_s: float) -> bool:
        """True when woken within `timeout_s` (the event is cleared for the next round)."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout_s)
        except TimeoutError:
            return False
        self.event.clear()
        return True


class CaseEventHub:
    """Who follows which case in this server, and the thread that LISTENs for them."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, incident_id: int) -> Subscription:
        """Follow a case (`EVERY_CASE`: all of them) from the running loop; listens on first use."""
        sub = Subscription(incident_id, asyncio.get_running_loop())
        with self._lock:
            self._subs[incident_id].add(sub)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=listen,
                    args=(self._app.state.engine, CASE_EVENTS_CHANNEL, self._notified, self._stop),
                    kwargs={"on_connect": self._wake_all, "outage": self._app.state.outage},
                    name="wangge-case-events",
                    daemon=True,
                )
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop following (the page went away)."""
        with self._lock:
            subs = self._subs.get(sub.incident_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.incident_id]

    def followers(self) -> int:
        """How many pages follow a case in this server now."""
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def _notified(self, payload: str) -> None:
        if payload == "*":
            self._wake_all()
            return
        with self._lock:
            woken = [
                sub
                for part in payload.split(",")
                if part.isdigit()
                for sub in self._subs.get(int(part), ())
            ]
            woken.extend(self._subs.get(EVERY_CASE, ()))
        for sub in woken:
            sub.wake()

    def _wake_all(self) -> None:
        with self._lock:
            woken = [sub for subs in self._subs.values() for sub in subs]
        for sub in woken:
            sub.wake()

    def stop(self) -> None:
        """End the listening thread (at shutdown)."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=3.0)


def install(app: FastAPI) -> None:
    """Give the app its hub (`app.state.case_events`), stopped at shutdown."""
    app.state.case_events = CaseEventHub(app)
    app.state.shutdown_hooks.append(lambda a: a.state.case_events.stop())
