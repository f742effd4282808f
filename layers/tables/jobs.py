"""Jobs: long work run in the background, with its owner, progress and outcome.

A job row is written when the work is accepted and survives the process that
runs it.  Each server process that runs jobs holds one session-level advisory
lock (``JOB_RUNNER_LOCK``, its random ``runner`` number) for as long as it lives,
so "is this queued or running job still being worked on" is a question to
`pg_locks`, not to a clock: when the process dies its connection closes, the
lock goes, and the job is marked failed with the error code ``interrupted``
the next time anyone looks (or when a server starts).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.errors import ConflictError, NotFoundError, TooManyJobsError
from layers.store.driver import detached_autocommit
from layers.tables.base import Base

JOB_RUNNER_LOCK = 5_202_613
"""First key of the runners' advisory locks (the second is the runner's number)."""
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
INTERRUPTED = {"code": "interrupted", "detail": "the server running this job stopped"}


class Job(Base):
    """One piece of long work: kind and parameters, who asked, how far, what came of it."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    owner: Mapped[str] = mapped_column(Text, nullable=False)
    owner_role: Mapped[str] = mapped_column(Text, nullable=False)
    owner_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True
    )
    runner: Mapped[int] = mapped_column(Integer, nullable=False)
    """The number of the runner (server process) that works on it; see the module docstring."""
    progress: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    message: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class JobOwner:
    """Who submitted a job: name and role for the audit trail, the key for access."""

    name: str
    role: str
    key_id: int | None


def create_job(
    *, session: Session, kind: str, params: dict[str, Any], owner: JobOwner, runner: int, now
) -> Job:
    """A queued job of `kind` for `owner`, to be worked on by `runner`."""
    job = Job(
        kind=kind,
        params=params,
        status="queued",
        owner=owner.name,
        owner_role=owner.role,
        owner_key_id=owner.key_id,
        runner=runner,
        progress=0.0,
        cancel_requested=False,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim_slot(*, session: Session, owner: JobOwner, limit: int) -> None:
    """Make room for one more job of `owner`, or 429 ``too_many_jobs`` (serialised per owner)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"jobs:{owner.name}"})
    if active_jobs(session=session, owner=owner) >= limit:
        raise TooManyJobsError(
            f"at most {limit} jobs may be queued or running at once; "
            "wait for one to finish or cancel one",
            limit=limit,
        )


def active_jobs(*, session: Session, owner: JobOwner) -> int:
    """How many jobs of this owner (its key, else its name) are queued or running."""
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM jobs WHERE status = ANY(:active) AND CASE WHEN "
                "CAST(:key AS int) IS NULL THEN owner = :name ELSE owner_key_id = :key END"
            ),
            {"active": list(ACTIVE), "key": owner.key_id, "name": owner.name},
        ).scalar_one()
    )


def get_job(*, session: Session, job_id: int, owner: JobOwner, admin: bool, now: datetime) -> Job:
    """The job, as its owner or an admin may see it (404 ``job_not_found`` otherwise).

    A queued or running job whose runner is gone is marked interrupted first.
    """
    interrupt_orphans(session=session, now=now, job_id=job_id)
    job = session.get(Job, job_id, populate_existing=True)
    mine = job is not None and (
        job.owner_key_id == owner.key_id if owner.key_id is not None else job.owner == owner.name
    )
    if job is None or not (mine or admin):
        raise NotFoundError(f"no job {job_id}", code="job_not_found")
    return job


_ORPHANS_SQL = text(
    "UPDATE jobs j SET status = 'failed', error = CAST(:error AS jsonb), finished_at = :now "
    "WHERE j.status = ANY(:active) AND (CAST(:job AS int) IS NULL OR j.id = :job) "
    "AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid = CAST(:space AS oid) AND l.objid = CAST(j.runner AS oid) AND l.objsubid = 2) "
    "RETURNING j.id"
)


def interrupt_orphans(*, session: Session, now: datetime, job_id: int | None = None) -> list[int]:
    """Mark queued/running jobs whose runner holds no lock any more as failed (interrupted)."""
    return list(
        session.execute(
            _ORPHANS_SQL,
            {
                "error": json.dumps(INTERRUPTED),
                "now": now,
                "active": list(ACTIVE),
                "job": job_id,
                "space": JOB_RUNNER_LOCK,
            },
        ).scalars()
    )


def start_job(*, session: Session, job_id: int, now: datetime) -> Job | None:
    """Mark a queued job running; None when it was cancelled (or taken) meanwhile."""
    started = session.execute(
        text(
            "UPDATE jobs SET status = 'running', started_at = :now, message = 'started' "
            "WHERE id = :id AND status = 'queued' AND NOT cancel_requested RETURNING id"
        ),
        {"id": job_id, "now": now},
    ).scalar()
    return None if started is None else session.get(Job, job_id, populate_existing=True)


def report_progress(*, session: Session, job_id: int, progress: float, message: str) -> bool:
    """Record how far a running job is; True when its owner asked to cancel it."""
    cancel = session.execute(
        text(
            "UPDATE jobs SET progress = greatest(progress, :p), message = :m "
            "WHERE id = :id AND status = 'running' RETURNING cancel_requested"
        ),
        {"id": job_id, "p": min(max(progress, 0.0), 1.0), "m": message},
    ).scalar()
    return cancel is None or bool(cancel)  # gone or no longer running: stop too


def finish_job(
    *,
    session: Session,
    job_id: int,
    status: str,
    now: datetime,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """Record the outcome of a job that was still queued or running."""
    if status not in FINISHED:
        raise ValueError(status)
    session.execute(
        text(
            "UPDATE jobs SET status = :s, finished_at = :now, result = CAST(:result AS jsonb), "
            "error = CAST(:error AS jsonb), message = :s, "
            "progress = CASE WHEN :s = 'succeeded' THEN 1 ELSE progress END "
            "WHERE id = :id AND status = ANY(:active)"
        ),
        {
            "id": job_id,
            "s": status,
            "now": now,
            "result": None if result is None else json.dumps(result, ensure_ascii=False),
            "error": None if error is None else json.dumps(error, ensure_ascii=False),
            "active": list(ACTIVE),
        },
    )


def cancel_job(*, session: Session, job: Job, now: datetime) -> Job:
    """Cancel a queued job at once, ask a running one to stop; 409 ``job_finished`` after."""
    if job.status in FINISHED:
        raise ConflictError(f"job {job.id} has already {job.status}", code="job_finished")
    session.execute(
        text(
            "UPDATE jobs SET cancel_requested = true, "
            "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, "
            "finished_at = CASE WHEN status = 'queued' THEN :now ELSE finished_at END "
            "WHERE id = :id"
        ),
        {"id": job.id, "now": now},
    )
    return session.get(Job, job.id, populate_existing=True) or job


class RunnerLock:
    """A runner's liveness: an advisory lock on a connection of its own, held until `release`.

    The connection is detached from the engine's pool (the pool must never hand
    it to anyone else) and runs in autocommit, so it is never idle in a transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self._dbapi = detached_autocommit(engine)
        self.token = 0
        with self._dbapi.cursor() as cur:
            while not self.token:
                token = secrets.randbelow(2**31 - 2) + 1
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (JOB_RUNNER_LOCK, token))
                row = cur.fetchone()  # one row: pg_try_advisory_lock always answers
                if row is not None and row[0]:
                    self.token = token

    def release(self) -> None:
        """Close the connection: the lock goes with it."""
        self._dbapi.close()


def interrupt_runner(*, session: Session, runner: int, now: datetime) -> list[int]:
    """Mark the unfinished jobs of a runner that is stopping as failed (interrupted)."""
    return list(
        session.execute(
            text(
                "UPDATE jobs SET status = 'failed', finished_at = :now, "
                "error = CAST(:error AS jsonb) WHERE runner = :runner AND status = ANY(:active) "
                "RETURNING id"
            ),
            {
                "now": now,
                "error": json.dumps(INTERRUPTED),
                "runner": runner,
                "active": list(ACTIVE),
            },
        ).scalars()
    )
