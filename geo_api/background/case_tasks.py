"""Background work of the case side inside the server: the grid LISTEN and the SLA sweep.

`install(app)` adds start-up and shut-down hooks to the app (see
`geo_api.app`): at start-up the live grid is loaded (so the first request is
fast), a thread LISTENs on ``wangge_grid_published`` and reloads the grid of
this process when a revision is published (while it listens, `GET /locate`
answers from memory; while it is disconnected, each locate checks the grid's
version in the database), and — when
``WANGGE_SLA_SWEEP_SECONDS`` > 0, as `wangge serve` sets it — a thread runs the
SLA sweep periodically.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import FastAPI

from grids.cases.sla import sweep
from grids.grid.locate import follow_publishes, grid_changed, refresh_index
from layers.core.constants import GRID_PUBLISHED_CHANNEL
from layers.store.db import transaction
from layers.store.notify import listen
from layers.store.outage import first_line, is_unavailable

logger = logging.getLogger(__name__)
STOP_WAIT_S = 3.0
"""How long shutdown waits for the background threads to finish what they are doing."""


def install(app: FastAPI) -> None:
    """Register the hooks on `app`."""
    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)


def _reload(app: FastAPI) -> None:
    try:
        with transaction(app.state.sessionmaker) as session:
            refresh_index(session=session)
    except Exception:  # no schema or no grid yet: locate answers with an error later
        logger.warning("could not load the grid", exc_info=True)


def _published(app: FastAPI, payload: str) -> None:
    """Stop trusting the cached grid at once (no database needed), then reload it."""
    logger.info("grid revision %s published: reloading the grid", payload)
    with app.state.sessionmaker() as session:
        grid_changed(session=session)
    _reload(app)


def _following(app: FastAPI, listening: bool, listener: object) -> None:
    """The LISTEN (re)connected or lost its connection: trust the cached grid or check it."""
    try:  # only reads (losing the LISTEN touches no database at all)
        with app.state.sessionmaker() as session:
            follow_publishes(session=session, listening=listening, listener=id(listener))
    except Exception:  # e.g. the database is down: stay untrusted, locate checks per request
        logger.warning("could not bring the grid up to date", exc_info=True)


def _start(app: FastAPI) -> None:
    settings = app.state.settings.cases
    stop = threading.Event()
    threads: list[threading.Thread] = []
    _reload(app)
    if settings.grid_listen:
        threads.append(
            threading.Thread(
                target=listen,
                args=(app.state.engine, GRID_PUBLISHED_CHANNEL, lambda p: _published(app, p), stop),
                kwargs={
                    # after a (re)connect: catch up on what was published meanwhile
                    "on_connect": lambda: _following(app, True, stop),
                    "on_disconnect": lambda: _following(app, False, stop),
                    "outage": app.state.outage,
                },
                name="wangge-grid-listen",
                daemon=True,
            )
        )
    if settings.sla_sweep_seconds > 0:
        threads.append(
            threading.Thread(
                target=_sweep_loop,
                args=(app, settings.sla_sweep_seconds, stop),
                name="wangge-sla-sweep",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    app.state.case_tasks = (stop, threads)


def _sweep_loop(app: FastAPI, period: float, stop: threading.Event) -> None:
    while not stop.wait(period):
        try:
            with transaction(app.state.sessionmaker) as session:
                sweep(session=session, now=app.state.clock())
        except Exception as exc:
            if is_unavailable(exc):  # an outage is logged once, not once per period
                app.state.outage.down(f"SLA sweep: {first_line(exc)}")
                continue
            logger.exception("SLA sweep failed; trying again in %.0f s", period)


def _stop(app: FastAPI) -> None:
    stop, threads = getattr(app.state, "case_tasks", (None, []))
    if stop is None:
        return
    stop.set()
    # One deadline for all: a thread stuck in a query must not hold up the
    # shutdown; they are daemon threads, so they end with the process.
    deadline = time.monotonic() + STOP_WAIT_S
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
