"""PostgreSQL LISTEN on a dedicated connection: wait for notifications, hand them on.

The connection is taken from the caller's engine and detached from its pool
(a LISTEN must outlive any transaction); it reconnects with a back-off when the
database goes away (reported to the caller's `OutageLog`, once per outage), and
stops when `stop` is set.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from layers.store.driver import detached_autocommit
from layers.store.outage import OutageLog, first_line, is_unavailable
from layers.store.sql import quote_ident

logger = logging.getLogger(__name__)


def listen(
    engine: Engine,
    channel: str,
    on_notify: Callable[[str], None],
    stop: threading.Event,
    *,
    poll_s: float = 1.0,
    on_connect: Callable[[], None] | None = None,
    on_disconnect: Callable[[], None] | None = None,
    outage: OutageLog | None = None,
) -> None:
    """Block, calling `on_notify(payload)` for each notification on `channel`, until `stop`.

    `on_connect` runs once listening (again), `on_disconnect` when the connection is
    lost: notifications sent meanwhile are missed, so the caller must not trust
    what they would have told it.
    """
    try:
        _listen(engine, channel, on_notify, stop, poll_s, on_connect, on_disconnect, outage)
    finally:
        if on_disconnect is not None:  # not listening any more
            _quietly(on_disconnect)


def _listen(engine, channel, on_notify, stop, poll_s, on_connect, on_disconnect, outage) -> None:
    backoff = 1.0
    while not stop.is_set():
        try:
            dbapi = detached_autocommit(engine)
            with dbapi.cursor() as cur:
                cur.execute(f"LISTEN {quote_ident(channel)}")
            if on_connect is not None:
                on_connect()  # catch up on what was published while we were not listening
            backoff = 1.0
            _pump(dbapi, on_notify, stop, poll_s)
            dbapi.close()
        except Exception as exc:
            if on_disconnect is not None:
                _quietly(on_disconnect)
            if stop.is_set():
                return
            if outage is not None and is_unavailable(exc):
                outage.down(f"LISTEN {channel}: {first_line(exc)}")
            else:
                logger.warning(
                    "LISTEN %s failed; retrying in %.0f s", channel, backoff, exc_info=True
                )
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)


def _pump(dbapi, on_notify: Callable[[str], None], stop: threading.Event, poll_s: float) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([dbapi], [], [], poll_s)
        if not ready:
            continue
        dbapi.poll()
        while dbapi.notifies:
            note = dbapi.notifies.pop(0)
            try:
                on_notify(note.payload)
            except Exception:
                logger.exception("handling a notification on %s failed", note.channel)


def _quietly(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        logger.exception("the disconnect callback failed")
