"""One editor edit, start to finish: check the ETag, change the tree, store, recount, answer.

`run_edit` locks the draft, refuses a stale `If-Match` (412) before anything, runs
the edit on the tree (a refused edit raises before any write), writes only the
changed rows, recounts them, bumps the draft's version, audits who did what, and
answers the changed cells with their figures, the cells removed, the cells as they
were (the client's undo), the problems around them and the draft's balance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.planning.drafts import bump_version, get_revision, require_draft
from grids.planning.edit_cache import cached, keep
from grids.planning.edit_checks import (
    cell_features,
    draft_balance,
    incremental_problems,
    scope_outline,
)
from grids.planning.edit_store import check_if_match, etag_of, load_tree, recount, write_changes
from grids.planning.edit_tree import Tree
from grids.planning.validation import ValidationOptions
from layers.tables.audit import record

logger = logging.getLogger(__name__)

_CHECKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="edit-checks")
"""Runs an edit's incremental checks beside its database round trips."""

Edit = Callable[[Tree], dict[str, Any]]
"""Changes the tree in place, answers what the audit should say about it (or raises 4xx)."""


@dataclass(frozen=True)
class EditContext:
    """Who edits which draft with which version seen, and the checks' settings."""

    revision_id: int
    if_match: str | None
    actor: str
    role: str
    options: ValidationOptions
    tolerance: float


def run_edit(*, session: Session, ctx: EditContext, op: str, edit: Edit) -> dict[str, Any]:
    """Apply one edit to a draft and answer what changed (see the module doc)."""
    revision = get_revision(session=session, revision_id=ctx.revision_id, lock=True)
    require_draft(revision)
    check_if_match(revision, ctx.if_match)
    srid = ctx.options.metric_srid
    where = (str(session.get_bind().engine.url), revision.id)
    hit = cached(where, revision.version, revision.updated_at)
    tree, stored = hit or load_tree(session=session, revision=revision, options=ctx.options)
    said = edit(tree)
    before = [stored[k].feature() for k in tree.before if k in stored]
    touched = _touched(tree, before)
    scope_outline(tree)  # computed once here, not in the thread (the cache keeps it)
    # The incremental checks need only the edited tree: they run (shapely releases the
    # GIL) while the rows are written, recounted and read back.
    problems_soon = _CHECKS.submit(incremental_problems, tree, touched, ctx.options)
    written = write_changes(session=session, revision_id=revision.id, tree=tree, srid=srid)
    ids, removed = written.ids, written.removed
    recount(session=session, revision_id=revision.id, ids=ids)
    bump_version(revision)
    session.flush()
    keep(
        where,
        version=revision.version,
        updated_at=revision.updated_at,
        tree=tree,
        stored=stored,
        written=written,
        counts=_counts(session, ids),
    )
    record(
        session=session,
        actor=ctx.actor,
        role=ctx.role,
        action=f"grid_draft_{op}",
        entity="grid_revisions",
        entity_id=revision.id,
        data={**said, "changed": sorted(touched - {""}), "removed": removed},
    )
    balance, figures = draft_balance(
        session=session, revision_id=revision.id, tolerance=ctx.tolerance
    )
    features = cell_features(
        session=session, revision_id=revision.id, ids=ids, balance=balance, srid=srid
    )
    problems = problems_soon.result()
    logger.info("draft %s %s: %d changed, %d removed", revision.id, op, len(ids), len(removed))
    return {
        "revision": revision.id,
        "version": revision.version,
        "etag": etag_of(revision),
        "op": op,
        **said,
        "cells": {"type": "FeatureCollection", "features": features},
        "removed": removed,
        "before": before,
        "problems": problems,
        "draft": figures,
    }


def _touched(tree: Tree, before: list[dict[str, Any]]) -> set[str]:
    """Codes of the changed cells (as they are and as they were) and of their parents."""
    touched = {c.code for c in tree.cells.values() if c.key in tree.before} | {
        s["properties"]["code"] for s in before
    }
    touched |= {c.parent_code or "" for c in tree.cells.values() if c.code in touched}
    touched |= {s["properties"]["parent_code"] or "" for s in before}
    return touched


def _counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Households and population of the rows just recounted (for the cached tree)."""
    rows = session.execute(
        text("SELECT id, households, population FROM grid_draft_cells WHERE id = ANY(:ids)"),
        {"ids": ids},
    ).all()
    return {r.id: (r.households, r.population) for r in rows}
