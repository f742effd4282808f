"""Re-locate and reassign open cases after a grid revision is published.

Runs inside the publish transaction: a case whose cells were closed — by this
publish, or earlier (a case stranded on a closed cell, e.g. by a race before
intake and publish shared a lock) in the scope's communities — is located
again in the new live grid (covers, lowest code wins on a shared edge; else the
nearest level-3 cell within `NEAREST_M`; else its community's fallback queue),
and each move writes one `incident_events` row with the before and after.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.duty import Assignment, assign_cells
from layers.tables.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)

NEAREST_M = 30.0
"""A point in no cell goes to the nearest cell within this distance (metres)."""


_MOVES_SQL = text(
    """
    WITH cand AS (
      SELECT i.* FROM incidents i
      WHERE i.status = ANY(:open) AND (
        i.l1_cell_id = ANY(:closed) OR i.l2_cell_id = ANY(:closed) OR i.l3_cell_id = ANY(:closed)
        OR (i.community_id = ANY(:communities) AND (i.l3_cell_id IS NULL OR EXISTS (
          SELECT 1 FROM grid_cells g WHERE g.id IN (i.l1_cell_id, i.l2_cell_id, i.l3_cell_id)
          AND g.valid_to IS NOT NULL))))
    )
    SELECT c.id, c.status, c.handling_level, c.assignee_worker_id, c.assignment_reason,
      c.revision_id,
      c.locate_method, o1.code AS old_l1, o2.code AS old_l2, o3.code AS old_l3,
      coalesce(cov.id, nea.id) AS l3_id, n3.code AS l3, n2.id AS l2_id, n2.code AS l2,
      n1.id AS l1_id, n1.code AS l1, comm.id AS community_id,
      CASE WHEN cov.id IS NOT NULL THEN 'covers' WHEN nea.id IS NOT NULL THEN 'nearest'
           ELSE 'community_fallback' END AS method
    FROM cand c
    LEFT JOIN grid_cells o1 ON o1.id = c.l1_cell_id
    LEFT JOIN grid_cells o2 ON o2.id = c.l2_cell_id
    LEFT JOIN grid_cells o3 ON o3.id = c.l3_cell_id
    LEFT JOIN LATERAL (SELECT g.id FROM grid_cells g WHERE g.valid_to IS NULL AND g.level = 3
      AND ST_Covers(g.geom, c.geom) ORDER BY g.code LIMIT 1) cov ON true
    LEFT JOIN LATERAL (SELECT g.id FROM grid_cells g WHERE cov.id IS NULL
      AND g.valid_to IS NULL AND g.level = 3 AND g.geom && ST_Expand(c.geom, 0.001)
      AND ST_DWithin(g.geom::geography, c.geom::geography, :near)
      ORDER BY ST_Distance(g.geom::geography, c.geom::geography), g.code LIMIT 1) nea ON true
    LEFT JOIN grid_cells n3 ON n3.id = coalesce(cov.id, nea.id)
    LEFT JOIN grid_cells n2 ON n2.id = n3.parent_id
    LEFT JOIN grid_cells n1 ON n1.id = n2.parent_id
    LEFT JOIN LATERAL (SELECT m.id FROM communities m WHERE ST_Covers(m.geom, c.geom)
      ORDER BY m.code LIMIT 1) comm ON true
    ORDER BY c.id
    """
)


def relocate_open_incidents(
    *,
    session: Session,
    revision_id: int,
    closed_cell_ids: Sequence[int],
    community_ids: Sequence[int],
    actor: str,
    role: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Move open cases off closed cells into the new live grid; one event per case, at `now`."""
    moves = session.execute(
        _MOVES_SQL,
        {
            "open": list(OPEN_STATUSES),
            "closed": list(closed_cell_ids),
            "communities": list(community_ids),
            "near": NEAREST_M,
        },
    ).all()
    workers = assign_cells(session=session, cell_codes=[m.l1 for m in moves if m.l1])
    changes = [_change(m, workers, revision_id) for m in moves]
    if changes:
        _apply(session, changes, revision_id, actor, role, now)
    logger.info("revision %s: %d open cases re-located", revision_id, len(changes))
    return changes


def _change(m: Any, workers: dict[str, Assignment], revision_id: int) -> dict[str, Any]:
    """Where a case goes; a grid-level case follows the new level-1 cell's worker on duty.

    The duty rule (`grids.cases.duty`) names that worker and why.  When nobody can take
    the new cell the case keeps its assignee, so it is never left without a
    responsible party; community/street/district cases keep theirs.
    """
    assignee, reason = m.assignee_worker_id, m.assignment_reason
    given = workers.get(m.l1) if m.handling_level == "grid" else None
    if given is not None and given.worker_id is not None:
        assignee, reason = given.worker_id, given.reason
    return {
        "id": m.id,
        "status": m.status,
        "community_id": m.community_id,
        "method": m.method,
        "ids": (m.l1_id, m.l2_id, m.l3_id),
        "assignee": assignee,
        "reason": reason,
        "from": {
            "revision_id": m.revision_id,
            "l1": m.old_l1,
            "l2": m.old_l2,
            "l3": m.old_l3,
            "assignee_worker_id": m.assignee_worker_id,
            "assignment_reason": m.assignment_reason,
            "locate_method": m.locate_method,
        },
        "to": {
            "revision_id": revision_id,
            "l1": m.l1,
            "l2": m.l2,
            "l3": m.l3,
            "assignee_worker_id": assignee,
            "assignment_reason": reason,
            "locate_method": m.method,
        },
    }


def _apply(
    session: Session,
    changes: list[dict[str, Any]],
    revision_id: int,
    actor: str,
    role: str,
    now: datetime,
) -> None:
    cols = {
        "ids": [c["id"] for c in changes],
        "l1": [c["ids"][0] for c in changes],
        "l2": [c["ids"][1] for c in changes],
        "l3": [c["ids"][2] for c in changes],
        "comm": [c["community_id"] for c in changes],
        "method": [c["method"] for c in changes],
        "assignee": [c["assignee"] for c in changes],
        "reason": [c["reason"] for c in changes],
        "data": [json.dumps({k: c[k] for k in ("from", "to")}) for c in changes],
        "status": [c["status"] for c in changes],
    }
    session.execute(
        text(
            "UPDATE incidents i SET l1_cell_id = u.l1, l2_cell_id = u.l2, l3_cell_id = u.l3, "
            "community_id = coalesce(u.comm, i.community_id), locate_method = u.method, "
            "assignee_worker_id = u.assignee, assignment_reason = u.reason, revision_id = :r, "
            "version = i.version + 1, updated_at = :now "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:l1 AS int[]), "
            "CAST(:l2 AS int[]), CAST(:l3 AS int[]), CAST(:comm AS int[]), "
            "CAST(:method AS text[]), CAST(:assignee AS int[]), CAST(:reason AS text[])) "
            "AS u(id, l1, l2, l3, comm, method, assignee, reason) WHERE i.id = u.id"
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
