"""Run long work as jobs inside the server: a small thread pool, its liveness lock, progress.

`install(app)` puts a `JobRunner` on ``app.state.jobs`` and starts it with the
app (it also starts by itself on the first submission).  Submitting writes a
queued job row (`layers.tables.jobs`) and hands the work to a pool of
``WANGGE_LIMIT_JOB_WORKERS`` threads; the work reports progress through its
`JobContext`, which is also where a cancellation (``DELETE /jobs/{id}``), the
time limit (``WANGGE_LIMIT_JOB_SECONDS``) or the server stopping takes effect.

The runner proves it is alive by holding an advisory lock on a connection of its
own for as long as it runs; when the process goes away, so does the lock, and
its unfinished jobs read as failed (``interrupted``), never as running forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo_api.settings import Settings
from layers.core.errors import WanggeError
from layers.core.now import Clock
from layers.store.db import transaction
from layers.tables.jobs import (
    INTERRUPTED,
    Job,
    JobOwner,
    RunnerLock,
    claim_slot,
    create_job,
    finish_job,
    interrupt_orphans,
    interrupt_runner,
    report_progress,
    start_job,
)

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""Progress is written at most this often (cancellation is noticed as often)."""


class JobCancelledError(Exception):
    """Raised inside a job's work when its owner cancelled it."""


class JobStoppedError(Exception):
    """Raised inside a job's work when the server stops or the job ran out of time."""

    def __init__(self, error: dict[str, str]) -> None:
        super().__init__(error["detail"])
        self.error = error


@dataclass
class JobContext:
    """What a job's work may use: sessions, settings, its owner, and `progress`."""

    job_id: int
    owner: JobOwner
    settings: Settings
    sessionmaker: sessionmaker[Session]
    clock: Clock
    deadline: float
    stopping: threading.Event
    _last: float = field(default=0.0)

    def progress(self, fraction: float, message: str) -> None:
        """Record how far the work is; raises to stop it when it was cancelled or must stop."""
        if self.stopping.is_set():
            raise JobStoppedError(INTERRUPTED)
        now = time.monotonic()
        if now > self.deadline:
            raise JobStoppedError(
                {"code": "job_timeout", "detail": "the job ran longer than the time limit"}
            )
        if now - self._last < PROGRESS_EVERY_S and fraction < 1.0:
            return
        self._last = now
        with transaction(self.sessionmaker) as session:
            cancelled = report_progress(
                session=session, job_id=self.job_id, progress=fraction, message=message
            )
        if cancelled:
            raise JobCancelledError


JobKind = Callable[[JobContext, dict[str, Any]], dict[str, Any]]
"""A job's work: context and parameters in, a JSON-able result out."""


class JobRunner:
    """This process's jobs: the liveness lock, the thread pool, submission and outcomes."""

    def __init__(
        self,
        *,
        engine: Engine,
        factory: sessionmaker[Session],
        settings: Settings,
        clock: Clock,
        kinds: dict[str, JobKind],
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.settings = settings
        self.clock = clock
        self.kinds = kinds
        self.token: int | None = None
        self._liveness: RunnerLock | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Take this runner's liveness lock and mark jobs whose runner died as interrupted."""
        with self._lock:
            if self._pool is not None:
                return
            self._liveness = RunnerLock(self.engine)
            self.token = self._liveness.token
            self._stopping.clear()
            workers = self.settings.limits.job_workers
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="wangge-job")
        with transaction(self.factory) as session:
            gone = interrupt_orphans(session=session, now=self.clock())
        if gone:
            logger.warning("jobs %s were interrupted by a server stop", gone)

    def submit(
        self, *, kind: str, params: dict[str, Any], owner: JobOwner, session: Session
    ) -> Job:
        """Queue a job (committed in `session`); 429 ``too_many_jobs`` over the owner's limit."""
        if kind not in self.kinds:
            raise ValueError(f"unknown job kind {kind}")
        self.start()
        assert self.token is not None and self._pool is not None
        claim_slot(session=session, owner=owner, limit=self.settings.limits.jobs_per_owner)
        job = create_job(
            session=session,
            kind=kind,
            params=params,
            owner=owner,
            runner=self.token,
            now=self.clock(),
        )
        job_id = job.id
        session.commit()
        self._pool.submit(self._run, job_id, kind, params, owner)
        return job

    def _run(self, job_id: int, kind: str, params: dict[str, Any], owner: JobOwner) -> None:
        try:
            with transaction(self.factory) as session:
                if start_job(session=session, job_id=job_id, now=self.clock()) is None:
                    return  # cancelled while it waited
            context = JobContext(
                job_id=job_id,
                owner=owner,
                settings=self.settings,
                sessionmaker=self.factory,
                clock=self.clock,
                deadline=time.monotonic() + self.settings.limits.job_seconds,
                stopping=self._stopping,
            )
            outcome = self._work(self.kinds[kind], context, params)
            with transaction(self.factory) as session:
                finish_job(session=session, job_id=job_id, now=self.clock(), **outcome)
        except Exception:  # the database went away: the job reads as interrupted later
            logger.exception("job %s could not record its outcome", job_id)

    @staticmethod
    def _work(work: JobKind, context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Run the work; its outcome as `finish_job` arguments."""
        try:
            return {"status": "succeeded", "result": work(context, params)}
        except JobCancelledError:
            return {"status": "cancelled"}
        except JobStoppedError as exc:
            return {"status": "failed", "error": exc.error}
        except WanggeError as exc:
            return {
                "status": "failed",
                "error": {"code": exc.code, "detail": exc.message, **exc.details},
            }
        except Exception:
            logger.exception("job %s failed", context.job_id)
            return {
                "status": "failed",
                "error": {"code": "internal_error", "detail": "the job failed unexpectedly"},
            }

    def stop(self) -> None:
        """Stop taking work; unfinished jobs of this runner are recorded as interrupted."""
        with self._lock:
            pool, self._pool = self._pool, None
            if pool is None:
                return
            self._stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
        try:
            with transaction(self.factory) as session:
                interrupt_runner(session=session, runner=self.token or 0, now=self.clock())
        finally:
            if self._liveness is not None:
                self._liveness.release()
                self._liveness = None


def _start(app: FastAPI) -> None:
    try:
        app.state.jobs.start()
    except Exception:  # no schema yet, or no database: it starts on the first submission
        logger.warning("the job runner did not start", exc_info=True)


def install(app: FastAPI, kinds: dict[str, JobKind]) -> None:
    """Put a runner for `kinds` on ``app.state.jobs``, started and stopped with the app."""
    app.state.jobs = JobRunner(
        engine=app.state.engine,
        factory=app.state.sessionmaker,
        settings=app.state.settings,
        clock=app.state.clock,
        kinds=kinds,
    )
    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(lambda a: a.state.jobs.stop())
