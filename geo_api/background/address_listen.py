"""The geocoder's address LISTEN: while it follows, `GET /geocode` trusts its book in memory.

At start-up (when `grid_listen` is on, as for the grid) a thread LISTENs on
``wangge_addresses_changed`` (sent by a trigger on `addresses` and
`road_aliases`, migration 0026).  A notice, a (re)connect or a lost connection
makes the next geocode check the addresses' version in the database; between
notices the book answers without a query.  Without the thread (tests, a lost
connection) every geocode checks the version, so none answers from an older book.
"""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from grids.base_data.address_cache import addresses_changed, follow_addresses
from layers.core.constants import ADDRESSES_CHANGED_CHANNEL
from layers.store.notify import listen

logger = logging.getLogger(__name__)
STOP_WAIT_S = 3.0


def install(app: FastAPI) -> None:
    """Register the start-up and shut-down hooks on `app`."""
    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)


def _notice(app: FastAPI, payload: str) -> None:
    with app.state.sessionmaker() as session:  # no query: the key of the database only
        addresses_changed(session=session)


def _following(app: FastAPI, listening: bool, listener: object) -> None:
    try:
        with app.state.sessionmaker() as session:
            follow_addresses(session=session, listening=listening, listener=id(listener))
    except Exception:  # stay untrusted: each geocode checks the version
        logger.warning("could not follow the address changes", exc_info=True)


def _start(app: FastAPI) -> None:
    if not app.state.settings.cases.grid_listen:
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=listen,
        args=(app.state.engine, ADDRESSES_CHANGED_CHANNEL, lambda p: _notice(app, p), stop),
        kwargs={
            "on_connect": lambda: _following(app, True, stop),
            "on_disconnect": lambda: _following(app, False, stop),
            "outage": app.state.outage,
        },
        name="wangge-address-listen",
        daemon=True,
    )
    thread.start()
    app.state.address_listen = (stop, thread)


def _stop(app: FastAPI) -> None:
    stop, thread = getattr(app.state, "address_listen", (None, None))
    if stop is None:
        return
    stop.set()
    thread.join(timeout=STOP_WAIT_S)
