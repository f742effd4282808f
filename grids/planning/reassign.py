"""Re-locate and reassign open cases after a grid revision is published.

Runs inside the publish transaction: a case whose cells were closed — by this
publish, or earlier (a case stranded on a closed cell, e.g. by a race before
intake and publish shared a lock) in the scope's communities — is located
again in the new live grid by the one locate rule (`grids.grid.locate_sql`: covers,
lowest code wins on a shared edge; else the nearest cell within the locate
tolerance; else its community's fallback queue), and each move writes one
`incident_events` row with the before and after.  The impact preview asks the
same query of the grid a draft would leave (`DRAFT_GRID`), so it names the same cases.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.duty import Assignment, assign_cells
from grids.config import resolve_tolerance
from grids.grid.locate_sql import LIVE_CELLS, locate_sql, without_jit
from layers.tables.grid_cells import live
from layers.tables.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)

_CANDIDATES_SQL = f"""
    SELECT i.* FROM incidents i
    WHERE i.status = ANY(:open) AND (
      i.l1_cell_id = ANY({{closed}}) OR i.l2_cell_id = ANY({{closed}})
      OR i.l3_cell_id = ANY({{closed}})
      OR (i.community_id = ANY(:communities) AND (i.l3_cell_id IS NULL OR EXISTS (
        SELECT 1 FROM grid_cells g WHERE g.id IN (i.l1_cell_id, i.l2_cell_id, i.l3_cell_id)
        AND NOT {live("g")}))))
"""  # noqa: S608 - constant fragments only
"""Open cases a publish moves: on a cell it closes (`closed`), or stranded in its scope."""


def relocation_sql(*, closed: str, cells: str = LIVE_CELLS) -> str:
    """Where the publish puts each candidate case: its old cells and the rule's answer in `cells`.

    Shared by the publish (`closed` = the ids it closed, `cells` = the new live
    grid) and the impact preview (`closed` = the ids it would close, `cells` = the
    grid it would leave), so both name the same cases and the same cells.
    Binds ``:open``, ``:communities`` and ``:tolerance_m`` (and what `closed` and
    `cells` bind).
    """
    located = locate_sql(points="SELECT id, geom AS pt FROM cand", cells=cells)
    return f"""
    WITH cand AS ({_CANDIDATES_SQL.format(closed=closed)})
    SELECT c.id, c.status, c.handling_level, c.assignee_worker_id, c.assignment_reason,
      c.revision_id, c.locate_method, o1.code AS old_l1, o2.code AS old_l2, o3.code AS old_l3,
      n.l3_id, n.l3, n.l2_id, n.l2, n.l1_id, n.l1, n.community_id, n.street_id,
      n.method
    FROM cand c JOIN ({located}) n ON n.id = c.id
    LEFT JOIN grid_cells o1 ON o1.id = c.l1_cell_id
    LEFT JOIN grid_cells o2 ON o2.id = c.l2_cell_id
    LEFT JOIN grid_cells o3 ON o3.id = c.l3_cell_id
    ORDER BY c.id
    """  # noqa: S608 - constant fragments only


_MOVES_SQL = text(relocation_sql(closed="CAST(:closed AS int[])"))


DRAFT_GRID = f"""
    SELECT g.id, g.code, g.level, p.code AS parent_code, g.community_id, g.geom
    FROM grid_cells g LEFT JOIN grid_cells p ON p.id = g.parent_id
    WHERE {live("g")} AND NOT (g.community_id = ANY(CAST(:comms AS int[])))
    UNION ALL
    SELECT NULL, d.code, d.level, d.parent_code, m.id, d.geom
    FROM grid_draft_cells d JOIN communities m ON m.code = left(d.code, 12)
    WHERE d.revision_id = :r
"""  # noqa: S608 - constant fragments only
"""The grid a draft would leave live: the live cells outside its scope, and the draft's cells.

A grid relation for `locate_sql` (binds ``:r`` and ``:comms``, the scope's communities:
the draft's base is their live cells, or the publish refuses it as stale).  A cell the publish
keeps is here as its draft twin (same code, parent and outline, no id).
"""


@dataclass(frozen=True)
class CaseCells:
    """A case's routing on one side of a publish: revision, cell codes, assignee, method."""

    revision_id: int | None
    l1: str | None
    l2: str | None
    l3: str | None
    assignee_worker_id: int | None
    assignment_reason: str | None
    locate_method: str | None

    @property
    def codes(self) -> tuple[str | None, str | None, str | None]:
        """(l1, l2, l3) codes."""
        return self.l1, self.l2, self.l3


@dataclass(frozen=True)
class Relocation:
    """One open case a publish re-locates: its new cells and who has it, before and after."""

    id: int
    status: str
    handling_level: str
    community_id: int | None
    street_id: int | None
    method: str
    cell_ids: tuple[int | None, int | None, int | None]
    before: CaseCells
    after: CaseCells

    @property
    def moved(self) -> bool:
        """True when a cell code changes (a re-created cell of the same code is no move)."""
        return self.before.codes != self.after.codes

    def event_data(self) -> dict[str, Any]:
        """The ``relocate`` event's data: the routing before and after."""
        return {"from": asdict(self.before), "to": asdict(self.after)}


def relocate_open_cases(
    *,
    session: Session,
    revision_id: int,
    closed_cell_ids: Sequence[int],
    community_ids: Sequence[int],
    actor: str,
    role: str,
    now: datetime,
    tolerance_m: float | None = None,
) -> list[Relocation]:
    """Move open cases off closed cells into the new live grid; one event per case, at `now`."""
    without_jit(session)
    moves = session.execute(
        _MOVES_SQL,
        {
            "open": list(OPEN_STATUSES),
            "closed": list(closed_cell_ids),
            "communities": list(community_ids),
            "tolerance_m": resolve_tolerance(tolerance_m),
        },
    ).all()
    workers = assign_cells(session=session, cell_codes=[m.l1 for m in moves if m.l1])
    changes = [relocation(m, workers, revision_id) for m in moves]
    if changes:
        _apply(session, changes, revision_id, actor, role, now)
    logger.info("revision %s: %d open cases re-located", revision_id, len(changes))
    return changes


def relocation(m: Any, workers: dict[str, Assignment], revision_id: int) -> Relocation:
    """Where a case goes; a grid-level case follows the new level-1 cell's worker on duty.

    The duty rule (`grids.cases.duty`) names that worker and why.  When nobody can take
    the new cell the case keeps its assignee, so it is never left without a
    responsible party; community/street/district cases keep theirs.  A point the
    rule finds outside the district keeps its community as its fallback queue.
    """
    assignee, reason = m.assignee_worker_id, m.assignment_reason
    given = workers.get(m.l1) if m.handling_level == "grid" else None
    if given is not None and given.worker_id is not None:
        assignee, reason = given.worker_id, given.reason
    method = "community_fallback" if m.method == "outside" else m.method
    return Relocation(
        id=m.id,
        status=m.status,
        handling_level=m.handling_level,
        community_id=m.community_id,
        street_id=m.street_id,
        method=method,
        cell_ids=(m.l1_id, m.l2_id, m.l3_id),
        before=CaseCells(
            m.revision_id,
            m.old_l1,
            m.old_l2,
            m.old_l3,
            m.assignee_worker_id,
            m.assignment_reason,
            m.locate_method,
        ),
        after=CaseCells(revision_id, m.l1, m.l2, m.l3, assignee, reason, method),
    )


def _apply(
    session: Session,
    changes: list[Relocation],
    revision_id: int,
    actor: str,
    role: str,
    now: datetime,
) -> None:
    cols = {
        "ids": [c.id for c in changes],
        "l1": [c.cell_ids[0] for c in changes],
        "l2": [c.cell_ids[1] for c in changes],
        "l3": [c.cell_ids[2] for c in changes],
        "comm": [c.community_id for c in changes],
        "street": [c.street_id for c in changes],
        "method": [c.method for c in changes],
        "assignee": [c.after.assignee_worker_id for c in changes],
        "reason": [c.after.assignment_reason for c in changes],
        "data": [json.dumps(c.event_data()) for c in changes],
        "status": [c.status for c in changes],
    }
    session.execute(
        text(
            "UPDATE incidents i SET l1_cell_id = u.l1, l2_cell_id = u.l2, l3_cell_id = u.l3, "
            "community_id = coalesce(u.comm, i.community_id), "
            "street_id = coalesce(u.street, i.street_id), locate_method = u.method, "
            "assignee_worker_id = u.assignee, assignment_reason = u.reason, revision_id = :r, "
            "version = i.version + 1, updated_at = :now "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:l1 AS int[]), "
            "CAST(:l2 AS int[]), CAST(:l3 AS int[]), CAST(:comm AS int[]), "
            "CAST(:street AS int[]), CAST(:method AS text[]), CAST(:assignee AS int[]), "
            "CAST(:reason AS text[])) "
            "AS u(id, l1, l2, l3, comm, street, method, assignee, reason) WHERE i.id = u.id"
        ),
        {**cols, "r": revision_id, "now": now},
    )
    session.execute(
        text(
            "INSERT INTO incident_events (incident_id, at, actor, role, action, from_status, "
            "to_status, reason, data) SELECT u.id, :now, :actor, :role, 'relocate', u.status, "
            "u.status, :reason, u.data::jsonb FROM unnest(CAST(:ids AS bigint[]), "
            "CAST(:status AS text[]), CAST(:data AS text[])) AS u(id, status, data)"
        ),
        {
            "ids": cols["ids"],
            "status": cols["status"],
            "data": cols["data"],
            "now": now,
            "actor": actor,
            "role": role,
            "reason": f"grid revision {revision_id} published: the case's cells changed",
        },
    )
