"""Background work of the case side inside the server: the grid LISTEN and the SLA sweep.

`install(app)` adds start-up and shut-down hooks to the app (see
`geo_api.app`): at start-up the live grid is loaded (so the first request is
fast), a thread LISTENs on ``wangge_grid_published`` and reloads the grid of
this process when a revision is published, and — when
``WANGGE_SLA_SWEEP_SECONDS`` > 0, as `wangge serve` sets it — a thread runs the
SLA sweep periodically.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import FastAPI

from grids.locate import NOTIFY_CHANNEL, refresh_index
from grids.sla import sweep
from layers.db import transaction
from layers.notify import listen
from layers.outage import first_line, is_unavailable

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


def _start(app: FastAPI) -> None:
    settings = app.state.settings.cases
    stop = threading.Event()
    threads: list[threading.Thread] = []
    _reload(app)
    if settings.grid_listen:

        def on_publish(payload: str) -> None:
            logger.info("grid revision %s published: reloading the grid", payload)
            _reload(app)

        connects = [0]

        def on_connect() -> None:  # after a reconnect, catch up on missed publishes
            connects[0] += 1
            if connects[0] > 1:
                _reload(app)

        threads.append(
            threading.Thread(
                target=listen,
                args=(app.state.engine, NOTIFY_CHANNEL, on_publish, stop),
                kwargs={"on_connect": on_connect, "outage": app.state.outage},
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
                sweep(session=session)
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
