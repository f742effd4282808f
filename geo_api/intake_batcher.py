"""Group commit for `POST /incidents`: the reports waiting in one process written by one statement.

Why: at a thousand reports a second each statement's fixed costs — the thread
hop, the pool's ping, parsing and planning, the live grid's lock, the board's
NOTIFY (which PostgreSQL serialises across committing transactions) and the WAL
flush — cost more than the rows themselves.  One writer thread per process takes
every report queued while its previous statement ran (at most `MAX_BATCH`),
prepares them (check, locate in the kept grid, SLA clocks) and writes them all
with `grids.cases.intake_statement.write_batch` on an autocommit connection;
retries whose key was taken are read back together (`intake_replay`).  A
request is answered only after the statement that wrote its case committed, so
an answered case is never lost; a batch that fails wrote nothing (one
statement), and each of its requests gets the error.  Nothing waits for a batch
to fill: an idle server writes a lone report at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from grids.cases.access import Actor
from grids.cases.intake import IntakeResult, NewCase
from grids.cases.intake_replay import replay_batch
from grids.cases.intake_statement import PreparedCase, prepare, write_batch
from layers.core.errors import WanggeError
from layers.store.outage import describe

logger = logging.getLogger(__name__)

MAX_BATCH = 64
"""Reports per statement at most (a statement of 64 stays well under a few ms)."""

ORDINARY = object()
"""A request's answer when `report_case` must answer it (a retry the batch could not replay,
a refused request with a key, a grid this process has not loaded)."""


@dataclass(frozen=True)
class Report:
    """One request's report as the route hands it over."""

    case: NewCase
    actor: Actor
    key: str | None
    tolerance_m: float | None
    now: datetime
    client: str | None


class IntakeBatcher:
    """The process's writer thread and its queue (started on first use, stopped with the app)."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max = max_batch
        self._queue: queue.SimpleQueue[tuple[Report, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, report: Report) -> Future[Any]:
        """Queue a report; the future holds its `IntakeResult`, `ORDINARY`, or the error."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="intake-batcher", daemon=True
                    )
                    self._thread.start()
        done: Future[Any] = Future()
        self._queue.put((report, done))
        return done

    def close(self) -> None:
        """Stop the writer after the reports already queued."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self._write(batch)

    def _write(self, batch: list[tuple[Report, Future[Any]]]) -> None:
        try:
            with self._sessions() as session:
                ready = self._prepare(session, batch)
                items = [p for p, _ in ready]
                results = write_batch(session=session, items=items)
                retries = [i for i, r in enumerate(results) if r is None]
                if retries:
                    again = replay_batch(session=session, items=[items[i] for i in retries])
                    for i, r in zip(retries, again, strict=True):
                        results[i] = r
        except Exception as exc:  # nothing of the batch was written: every request hears of it
            # The server's message may quote the failing row (a resident's name and
            # phone): name the failure by class and SQLSTATE only, as the error handler does.
            what = describe(exc) if isinstance(exc, DBAPIError) else type(exc).__name__
            logger.warning("intake batch of %d failed: %s", len(batch), what)
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for (_, done), result in zip(ready, results, strict=True):
            done.set_result(ORDINARY if result is None else result)

    @staticmethod
    def _prepare(
        session: Session, batch: list[tuple[Report, Future[Any]]]
    ) -> list[tuple[PreparedCase, Future[Any]]]:
        """Each report checked and located; a refused one is answered here and left out."""
        ready: list[tuple[PreparedCase, Future[Any]]] = []
        for report, done in batch:
            try:
                ready.append(
                    (
                        prepare(
                            session=session,
                            case=report.case,
                            actor=report.actor,
                            idempotency_key=report.key,
                            tolerance_m=report.tolerance_m,
                            now=report.now,
                            client=report.client,
                        ),
                        done,
                    )
                )
            except WanggeError as exc:
                # With a key, `report_case` decides (a reused key answers 422 reused first).
                if report.key is None:
                    done.set_exception(exc)
                else:
                    done.set_result(ORDINARY)
        return ready


def result_of(value: Any) -> IntakeResult | None:
    """The batch's answer, or None when the ordinary path must answer."""
    return None if value is ORDINARY else value
