"""Publish a draft revision: one transaction from a valid draft to the new live grid.

Order matters and is all-or-nothing: serialise publishers, refuse a stale base
(409, rebase) or an invalid draft (422 with the report) before writing anything,
then take the live grid's lock exclusively (`grids.grid.live_grid`: intakes hold it
shared, so every case committed so far is seen and none is routed by the old
grid until we commit), close changed cells, open the new ones (unchanged cells
keep their row, id and code), move the open cases off closed cells, mark the
revision published and NOTIFY `wangge_grid_published` so every server reloads
its locate index on commit.  Any error rolls the whole thing back: the live grid
is untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grids.grid.live_grid import lock_live_grid
from grids.grid.locate import grid_changed
from grids.planning.drafts import get_revision, live_cell_ids, require_draft, scope_community_ids
from grids.planning.reassign import Relocation, relocate_open_cases
from grids.planning.validation import ValidationOptions, validate_draft
from layers.core.constants import GRID_PUBLISHED_CHANNEL
from layers.core.errors import ConflictError, UnprocessableError
from layers.store.driver import rowcount
from layers.tables.audit import record
from layers.tables.grid_cells import GridRevision, live

logger = logging.getLogger(__name__)

PUBLISH_CHANNEL = GRID_PUBLISHED_CHANNEL
"""NOTIFY channel; the payload is the published revision id."""
PUBLISH_LOCK_KEY = 5_202_611
"""Advisory lock serialising publishers (a constant of this module)."""


def check_base(*, session: Session, revision: GridRevision, community_ids: list[int]) -> None:
    """Refuse (409 `revision_stale`) when the live cells of the scope changed since the draft."""
    base = set(revision.base_cell_ids or ())
    live = set(live_cell_ids(session=session, community_ids=community_ids))
    if base == live:
        return
    codes = session.execute(
        text("SELECT DISTINCT code FROM grid_cells WHERE id = ANY(:ids) ORDER BY code"),
        {"ids": sorted(base ^ live)},
    ).scalars()
    raise ConflictError(
        f"the live grid of this scope changed since revision {revision.id} was drafted; "
        "take a new draft (rebase) and apply the edits again",
        code="revision_stale",
        changed_cells=list(codes)[:200],
    )


KEEP_SQL = """
    WITH m AS (
      SELECT d.id AS draft_id, d.code, d.level, d.parent_code, l.id AS live_id
      FROM grid_draft_cells d LEFT JOIN (
        SELECT g.id, g.code, g.level, g.geom,
          CASE WHEN g.level = 1 THEN c.code ELSE p.code END AS parent_code
        FROM grid_cells g JOIN communities c ON c.id = g.community_id
        LEFT JOIN grid_cells p ON p.id = g.parent_id WHERE g.id = ANY(CAST(:base AS int[]))
      ) l ON l.code = d.code AND l.level = d.level AND l.parent_code = d.parent_code
        AND ST_AsBinary(ST_Normalize(l.geom)) = ST_AsBinary(ST_Normalize(ST_Multi(d.geom)))
      WHERE d.revision_id = :r),
    k2 AS (SELECT c.draft_id, CASE WHEN EXISTS (SELECT 1 FROM m p WHERE p.level = 1
        AND p.code = c.parent_code AND p.live_id IS NULL) THEN NULL ELSE c.live_id END AS live_id
      FROM m c WHERE c.level = 2),
    k3 AS (SELECT c.draft_id, CASE WHEN EXISTS (SELECT 1 FROM m p JOIN k2 ON k2.draft_id =
        p.draft_id WHERE p.level = 2 AND p.code = c.parent_code AND k2.live_id IS NULL)
        THEN NULL ELSE c.live_id END AS live_id
      FROM m c WHERE c.level = 3)
    SELECT m.draft_id, m.code, m.level, m.parent_code,
      CASE m.level WHEN 2 THEN k2.live_id WHEN 3 THEN k3.live_id ELSE m.live_id END AS live_id
    FROM m LEFT JOIN k2 USING (draft_id) LEFT JOIN k3 USING (draft_id)
"""
"""Each draft cell and the live cell it keeps (NULL: a new row opens).

A cell is kept when code, level, parent code and outline are the same and its
parent is kept too (a re-created parent re-creates the subtree, so `parent_id`
always points at a live cell).  The publish acts on it; the impact preview
reads which cells would close from it.  Binds ``:r`` and ``:base``.
"""
_KEEP_SQL = text(f"CREATE TEMP TABLE _publish ON COMMIT DROP AS {KEEP_SQL}")
_OPEN_SQL = text(
    "INSERT INTO grid_cells (code, name, level, parent_id, community_id, revision_id, "  # noqa: S608
    "valid_from, households, population, geom) "
    "SELECT d.code, d.name, d.level, p.id, c.id, :r, :now, d.households, d.population, "
    "ST_Multi(d.geom) FROM _publish x JOIN grid_draft_cells d ON d.id = x.draft_id "
    "JOIN communities c ON c.code = left(d.code, 12) "
    f"LEFT JOIN grid_cells p ON d.level > 1 AND p.code = d.parent_code AND {live('p')} "
    "WHERE x.live_id IS NULL AND d.level = :lv"
)


def swap_cells(*, session: Session, revision: GridRevision, now: datetime) -> dict[str, Any]:
    """Close the changed live cells and open the new ones; unchanged cells keep their row.

    Which cells are unchanged is `KEEP_SQL`'s answer.  Cells close and open at `now`.
    """
    params = {"r": revision.id, "base": list(revision.base_cell_ids or ()), "now": now}
    session.execute(_KEEP_SQL, params)
    closed = session.execute(
        text(
            "UPDATE grid_cells SET valid_to = :now WHERE id = ANY(:base) AND id NOT IN "
            "(SELECT live_id FROM _publish WHERE live_id IS NOT NULL) RETURNING id"
        ),
        params,
    ).scalars()
    closed_ids = list(closed)
    opened = sum(rowcount(session.execute(_OPEN_SQL, {**params, "lv": lv})) for lv in (1, 2, 3))
    kept = session.execute(text("SELECT count(live_id) FROM _publish")).scalar() or 0
    return {"closed": len(closed_ids), "opened": opened, "kept": kept, "closed_ids": closed_ids}


@dataclass(frozen=True)
class PublishResult:
    """What a publish changed: cells closed, opened and kept, and the open cases re-located.

    `moves` holds every case re-located (`cases_moved` counts them, a case whose
    cell was re-created under the same code included); `Relocation.moved` tells
    the ones whose cells changed — the list the impact preview promised.
    """

    revision: int
    closed: int
    opened: int
    kept: int
    moves: list[Relocation]
    status: str = "published"

    @property
    def cases_moved(self) -> int:
        """How many open cases were re-located."""
        return len(self.moves)

    def summary(self) -> dict[str, int]:
        """The counts, as audited and answered."""
        counts = {"closed": self.closed, "opened": self.opened, "kept": self.kept}
        return {**counts, "cases_moved": self.cases_moved}

    def as_json(self) -> dict[str, Any]:
        """The answer of ``POST /planning/revisions/{id}/publish``."""
        return {"revision": self.revision, "status": self.status, **self.summary()}


def publish(
    *,
    session: Session,
    revision_id: int,
    actor: str,
    role: str,
    options: ValidationOptions,
    now: datetime,
    tolerance_m: float | None = None,
) -> PublishResult:
    """Publish a valid, up-to-date draft atomically at `now`; returns what changed.

    Open cases are re-located with the locate tolerance `tolerance_m` (default:
    the configured one).
    """
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK_KEY})
    revision = get_revision(session=session, revision_id=revision_id, lock=True)
    require_draft(revision)
    communities = scope_community_ids(
        session=session, scope=revision.scope, code=revision.scope_code or ""
    )
    check_base(session=session, revision=revision, community_ids=communities)
    report = validate_draft(session=session, revision_id=revision_id, options=options)
    if not report.valid:
        raise UnprocessableError(
            f"revision {revision_id} has {len(report.problems)} problems; fix them first",
            code="revision_invalid",
            report=report.as_json(),
        )
    # From here to commit no transaction routes by the live grid: the cases committed
    # so far are all visible to the re-location below, later ones see the new grid.
    lock_live_grid(session=session)
    try:
        swapped = swap_cells(session=session, revision=revision, now=now)
    except IntegrityError as exc:
        logger.warning("publish %s refused by a constraint: %s", revision_id, exc.orig)
        raise UnprocessableError(
            "the draft breaks a rule of the live grid", code="publish_refused"
        ) from exc
    closed_ids = swapped.pop("closed_ids")
    moves = relocate_open_cases(
        session=session,
        revision_id=revision_id,
        closed_cell_ids=closed_ids,
        community_ids=communities,
        actor=actor,
        role=role,
        now=now,
        tolerance_m=tolerance_m,
    )
    result = PublishResult(revision=revision_id, moves=moves, **swapped)
    _mark_published(session, revision_id, actor, role, result.summary(), now)
    # This process need not wait for its own NOTIFY to stop trusting its cached grid.
    event.listen(session, "after_commit", _forget_cached_grid, once=True)
    return result


def _forget_cached_grid(session: Session) -> None:
    grid_changed(session=session)


def _mark_published(
    session: Session,
    revision_id: int,
    actor: str,
    role: str,
    summary: dict[str, int],
    now: datetime,
) -> None:
    session.execute(
        text("UPDATE grid_revisions SET status = 'published', published_at = :now WHERE id = :r"),
        {"r": revision_id, "now": now},
    )
    record(
        session=session,
        actor=actor,
        role=role,
        action="grid_revision_publish",
        entity="grid_revisions",
        entity_id=revision_id,
        data=summary,
        at=now,
    )
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": PUBLISH_CHANNEL, "payload": str(revision_id)},
    )
    logger.info("revision %s published: %s", revision_id, summary)
