"""Balanced suggestions over HTTP: small ones answer at once, big ones run as a job.

`POST /planning/revisions/{id}/suggest` keeps its synchronous 200 for drafts
whose work (`grids.planning.balance.SuggestInput.work`) is at most
``WANGGE_LIMIT_SUGGEST_SYNC_WORK`` — a community, or the tests' small district —
and answers 202 with a job (``Location: /jobs/{id}``) above it, or whenever the
client sends ``Prefer: respond-async`` (RFC 7240).  Either way the long part
holds nothing: the draft is read in one short transaction that ends before the
computation, and the result is written in another, brief one that refuses
(409 ``draft_changed``) to overwrite a draft edited meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from geo_api.background.job_runner import JobContext, JobRunner
from geo_api.settings import Settings
from grids.planning.balance import (
    SuggestOptions,
    check_suggestion,
    compute_suggestion,
    read_suggestion,
    write_suggestion,
)
from layers.store.db import transaction
from layers.tables.jobs import Job, JobOwner

SUGGEST_JOB = "planning.suggest"


@dataclass(frozen=True)
class SuggestOutcome:
    """Either the suggestion's figures (done now) or the job that will compute them."""

    result: dict[str, Any] | None = None
    job: Job | None = None


def wants_async(prefer: str | None) -> bool:
    """True when a `Prefer` header asks for ``respond-async``."""
    return any(
        p.split("=")[0].strip().lower() == "respond-async" for p in (prefer or "").split(",")
    )


def suggest_or_submit(
    *,
    session: Session,
    runner: JobRunner,
    settings: Settings,
    revision_id: int,
    options: SuggestOptions,
    owner: JobOwner,
    prefer_async: bool,
) -> SuggestOutcome:
    """Check the bounds, then compute now (small) or queue a job (big, or asked for)."""
    inp = read_suggestion(session=session, revision_id=revision_id, options=options)
    check_suggestion(inp, settings.limits)
    if prefer_async or inp.work > settings.limits.suggest_sync_work:
        session.rollback()  # the read ends here; the job reads afresh
        params = {"revision_id": revision_id, **_params(options)}
        return SuggestOutcome(
            job=runner.submit(kind=SUGGEST_JOB, params=params, owner=owner, session=session)
        )
    session.commit()  # end the read transaction: nothing is held while computing
    plan = compute_suggestion(inp, options)
    result = write_suggestion(
        session=session, inp=inp, plan=plan, options=options, actor=owner.name, role=owner.role
    )
    session.commit()
    return SuggestOutcome(result=result)


def _params(options: SuggestOptions) -> dict[str, Any]:
    return {
        "level": options.level,
        "target_households": options.target_households,
        "cells": options.cells,
    }


def suggest_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """The job: read (short transaction), compute with progress, write (brief transaction)."""
    options = SuggestOptions(
        level=params["level"],
        target_households=params["target_households"],
        cells=params["cells"],
        metric_srid=context.settings.metric_srid,
        locate_tolerance_m=context.settings.cases.locate_tolerance_m,
    )
    context.progress(0.0, "reading the draft")
    with transaction(context.sessionmaker) as session:
        inp = read_suggestion(session=session, revision_id=params["revision_id"], options=options)
    check_suggestion(inp, context.settings.limits)  # the draft may have grown since
    plan = compute_suggestion(inp, options, progress=context.progress)
    context.progress(1.0, "writing the suggested cells")
    with transaction(context.sessionmaker) as session:
        return write_suggestion(
            session=session,
            inp=inp,
            plan=plan,
            options=options,
            actor=context.owner.name,
            role=context.owner.role,
        )
