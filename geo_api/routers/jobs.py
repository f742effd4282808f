"""Jobs: follow (`GET /jobs/{id}`) and cancel (`DELETE /jobs/{id}`) long work.

A job is seen by the key that submitted it and by admins; anyone else gets 404
(whether the job exists is not theirs to know).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from geo_api.auth import STAFF, Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.schemas.jobs import JobOut, job_out, owner_of
from layers.tables.jobs import cancel_job, get_job

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The job id.")]
Staff = Annotated[Principal, allow(*STAFF)]


@router.get("/{job_id}", response_model=JobOut, summary="A job: status, progress, result")
def read_job(job_id: JobId, session: SessionDep, who: Staff, now: NowDep) -> JobOut:
    """Queued → running (with progress) → succeeded (with `result`), failed or cancelled.

    A job whose server stopped before it finished answers ``failed`` with the
    error code ``interrupted``.
    """
    job = get_job(
        session=session, job_id=job_id, owner=owner_of(who), admin=who.role is Role.ADMIN, now=now
    )
    session.commit()  # an interrupted job is recorded as such
    return job_out(job)


@router.delete(
    "/{job_id}", status_code=202, response_model=JobOut, summary="Cancel a queued or running job"
)
def cancel(job_id: JobId, session: SessionDep, who: Staff, now: NowDep) -> JobOut:
    """A queued job is cancelled at once; a running one stops at its next progress step.

    409 ``job_finished`` for a job that is already over.
    """
    job = get_job(
        session=session, job_id=job_id, owner=owner_of(who), admin=who.role is Role.ADMIN, now=now
    )
    job = cancel_job(session=session, job=job, now=now)
    session.commit()
    return job_out(job)
