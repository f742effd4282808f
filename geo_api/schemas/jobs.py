"""The job resource as clients see it (`GET /jobs/{id}`, and the 202 that submitted it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from geo_api.auth import Principal
from layers.tables.jobs import Job, JobOwner


class JobOut(BaseModel):
    """A job: how far it is, and its result or error once it is over."""

    id: int
    kind: str = Field(description="What the job does, e.g. `planning.suggest`.")
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1, description="Share of the work done.")
    message: str | None = Field(default=None, description="What it is doing now.")
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = Field(
        default=None, description="What the work answered (status `succeeded`)."
    )
    error: dict[str, Any] | None = Field(
        default=None,
        description="`code` and `detail` (status `failed`; `interrupted` when its server stopped).",
    )
    href: str = Field(description="Where to follow it: `/jobs/{id}`.")


def job_out(job: Job) -> JobOut:
    """The public view of a job row."""
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,  # type: ignore[arg-type]
        progress=job.progress,
        message=job.message,
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result,
        error=job.error,
        href=f"/jobs/{job.id}",
    )


def owner_of(principal: Principal) -> JobOwner:
    """The job owner behind a caller: its key decides who may follow the job."""
    return JobOwner(name=principal.name, role=str(principal.role), key_id=principal.key_id)
