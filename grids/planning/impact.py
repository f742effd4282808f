"""What a draft would change: cells, households, open cases and grid workers' load.

Before = the live grid of the scope now; after = the draft.  Buildings and open
cases are placed by point (a building by its inner point) in both, with the
same rule as locate (covers, lowest code wins), so "moved" means the point's
cell code differs between the two grids.  Who would take a level-1 cell's cases
follows the duty rule (`grids.cases.duty`): the preview names the cells' own workers
who are off duty and who would stand in for them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.duty import Assignment, assign_cells
from grids.planning.drafts import get_revision, scope_community_ids
from layers.tables.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)

_CELLS_SQL = text(
    """
    WITH live AS (
      SELECT g.code, g.level, CASE WHEN g.level = 1 THEN c.code ELSE p.code END AS parent_code,
        g.geom FROM grid_cells g JOIN communities c ON c.id = g.community_id
      LEFT JOIN grid_cells p ON p.id = g.parent_id
      WHERE g.valid_to IS NULL AND g.community_id = ANY(:comms)),
    draft AS (SELECT code, level, parent_code, geom FROM grid_draft_cells WHERE revision_id = :r)
    SELECT coalesce(d.code, l.code) AS code, coalesce(d.level, l.level) AS level,
      l.parent_code AS parent_before, d.parent_code AS parent_after,
      ST_Area(ST_Transform(l.geom, :srid)) AS area_before,
      ST_Area(ST_Transform(d.geom, :srid)) AS area_after,
      CASE WHEN l.code IS NULL THEN 'added' WHEN d.code IS NULL THEN 'removed'
        WHEN l.parent_code IS DISTINCT FROM d.parent_code THEN 'reparented' ELSE 'reshaped' END
        AS change
    FROM draft d FULL JOIN live l ON l.code = d.code AND l.level = d.level
    WHERE l.code IS NULL OR d.code IS NULL OR l.parent_code IS DISTINCT FROM d.parent_code
      OR ST_AsBinary(ST_Normalize(l.geom)) <> ST_AsBinary(ST_Normalize(d.geom))
    ORDER BY 2, 1
    """
)

_POINTS_SQL = """
    WITH pts AS ({points}),
    old AS (SELECT DISTINCT ON (p.id, g.level) p.id, g.level, g.code FROM pts p
      JOIN grid_cells g ON g.valid_to IS NULL AND g.geom && p.pt AND ST_Covers(g.geom, p.pt)
      ORDER BY p.id, g.level, g.code),
    new AS (SELECT DISTINCT ON (p.id, d.level) p.id, d.level, d.code FROM pts p
      JOIN grid_draft_cells d ON d.revision_id = :r AND d.geom && p.pt AND ST_IsValid(d.geom)
      AND ST_Covers(d.geom, p.pt) ORDER BY p.id, d.level, d.code)
    SELECT p.id, lv.level, o.code AS before, n.code AS after, {extra}
    FROM pts p CROSS JOIN (VALUES (1), (2), (3)) AS lv(level)
    LEFT JOIN old o ON o.id = p.id AND o.level = lv.level
    LEFT JOIN new n ON n.id = p.id AND n.level = lv.level
"""
_BUILDINGS_SQL = text(
    _POINTS_SQL.format(
        points="SELECT id, households, population, ST_PointOnSurface(geom) AS pt FROM buildings "
        "WHERE community_id = ANY(:comms)",
        extra="p.households, p.population",
    )
)
_INCIDENTS_SQL = text(
    _POINTS_SQL.format(
        points="SELECT id, geom AS pt, assignee_worker_id, handling_level FROM incidents "
        "WHERE status = ANY(:open) AND community_id = ANY(:comms)",
        extra="p.assignee_worker_id, p.handling_level",
    )
)


def impact(*, session: Session, revision_id: int, metric_srid: int) -> dict[str, Any]:
    """Before/after of every changed cell, the open cases that move, and workers' load."""
    revision = get_revision(session=session, revision_id=revision_id)
    comms = scope_community_ids(
        session=session, scope=revision.scope, code=revision.scope_code or ""
    )
    params = {"r": revision_id, "comms": comms, "srid": metric_srid, "open": list(OPEN_STATUSES)}
    cells = [dict(r._mapping) for r in session.execute(_CELLS_SQL, params)]
    buildings = session.execute(_BUILDINGS_SQL, params).all()
    incidents = session.execute(_INCIDENTS_SQL, params).all()
    l1_before = {r.before for r in buildings if r.level == 1 and r.before}
    l1_after = _draft_l1(session, revision_id)
    assigned = assign_cells(
        session=session,
        cell_codes=sorted(l1_before | set(l1_after) | _l1_codes(cells)),
        revision_id=revision_id,
    )
    own = {c: a.responsible_id for c, a in assigned.items() if a.responsible_id is not None}
    takes = {c: a.worker_id for c, a in assigned.items() if a.worker_id is not None}
    _add_people(cells, buildings)
    moving = _moving_cases(incidents, takes)
    _add_cases(cells, incidents, own, assigned)
    return {
        "revision": revision_id,
        "changed_cells": cells,
        "incidents_moving": moving,
        "workload": _workload(own, takes, incidents, l1_after, buildings),
        "cells_without_worker": sorted(c for c in l1_after if c not in own),
        "workers_off_duty": _off_duty(session, assigned, l1_after),
        "totals": {
            "changed_cells": len(cells),
            "households_moved": sum(r.households for r in buildings if _moved(r, 3)),
            "population_moved": sum(r.population for r in buildings if _moved(r, 3)),
            "open_incidents_moving": len(moving),
        },
    }


def _moved(row: Any, level: int) -> bool:
    return row.level == level and row.before != row.after


def _l1_codes(cells: list[dict[str, Any]]) -> set[str]:
    return {c["code"] for c in cells if c["level"] == 1}


def _draft_l1(session: Session, revision_id: int) -> dict[str, int]:
    rows = session.execute(
        text("SELECT code, households FROM grid_draft_cells WHERE revision_id = :r AND level = 1"),
        {"r": revision_id},
    ).all()
    return {r.code: r.households for r in rows}


def _add_people(cells: list[dict[str, Any]], buildings: Sequence[Any]) -> None:
    """Households/population before, after, moved in and out, per changed cell."""
    sums: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in buildings:
        for side in ("before", "after"):
            code = getattr(b, side)
            if code:
                sums[(b.level, code)][f"households_{side}"] += b.households
                sums[(b.level, code)][f"population_{side}"] += b.population
        if b.before != b.after:
            if b.before:
                sums[(b.level, b.before)]["households_out"] += b.households
            if b.after:
                sums[(b.level, b.after)]["households_in"] += b.households
    keys = ("households_before", "households_after", "households_in", "households_out")
    for cell in cells:
        got = sums.get((cell["level"], cell["code"]), {})
        cell.update({k: got.get(k, 0) for k in keys})
        cell["population_before"] = got.get("population_before", 0)
        cell["population_after"] = got.get("population_after", 0)


def _new_assignee(row: Any, workers: dict[str, int]) -> int | None:
    """Who a case has after the publish: a moving grid-level case goes to its new cell's taker."""
    if row.before != row.after and row.handling_level == "grid" and row.after in workers:
        return workers[row.after]
    return row.assignee_worker_id


def _moving_cases(incidents: Sequence[Any], workers: dict[str, int]) -> list[dict[str, Any]]:
    by_case: dict[int, dict[str, Any]] = {}
    for r in incidents:
        if r.before == r.after:
            continue
        case = by_case.setdefault(r.id, {"id": r.id, "from": {}, "to": {}})
        case["from"][f"l{r.level}"] = r.before
        case["to"][f"l{r.level}"] = r.after
        if r.level == 1:
            case["assignee_before"] = r.assignee_worker_id
            case["assignee_after"] = _new_assignee(r, workers)
    return [by_case[k] for k in sorted(by_case)]


def _off_duty(
    session: Session, assigned: dict[str, Assignment], l1_after: dict[str, int]
) -> list[dict[str, Any]]:
    """The level-1 cells of the draft whose own worker is off duty, and who would stand in."""
    rows = [(c, assigned[c]) for c in sorted(l1_after) if c in assigned]
    rows = [(c, a) for c, a in rows if a.responsible_id is not None and not a.responsible_on_duty]
    ids = {a.responsible_id for _, a in rows if a.responsible_id is not None}
    ids |= {a.worker_id for _, a in rows if a.worker_id}
    names: dict[Any, str] = dict(
        session.execute(
            text("SELECT id, name FROM workers WHERE id = ANY(:ids)"), {"ids": sorted(ids)}
        ).all()
    )
    return [
        {
            "cell_code": code,
            "worker_id": a.responsible_id,
            "worker_name": names.get(a.responsible_id),
            "stand_in_id": a.worker_id,
            "stand_in_name": names.get(a.worker_id) if a.worker_id else None,
            "stand_in_reason": a.reason,
        }
        for code, a in rows
    ]


def _add_cases(
    cells: list[dict[str, Any]],
    incidents: Sequence[Any],
    workers: dict[str, int],
    assigned: dict[str, Assignment],
):
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in incidents:
        if r.before:
            counts[(r.level, r.before)]["before"] += 1
        if r.after:
            counts[(r.level, r.after)]["after"] += 1
    for cell in cells:
        got = counts.get((cell["level"], cell["code"]), {})
        cell["open_incidents_before"] = got.get("before", 0)
        cell["open_incidents_after"] = got.get("after", 0)
        if cell["level"] == 1:
            before = cell["code"] if cell["change"] != "added" else None
            after = cell["code"] if cell["change"] != "removed" else None
            cell["worker_before"] = workers.get(before) if before else None
            cell["worker_after"] = workers.get(after) if after else None
            took = assigned.get(after) if after else None
            cell["worker_after_on_duty"] = took.responsible_on_duty if took else None
            cell["assignee_after"] = took.worker_id if took else None
            cell["assignment_reason_after"] = took.reason if took else None


def _workload(workers, takes, incidents, l1_after, buildings) -> list[dict[str, Any]]:
    """Open cases and households per level-1 worker touched by the change, before and after.

    Households go with the cells' own workers (`workers`); open cases with whoever
    the duty rule gives them to (`takes`).
    """
    touched = {r.assignee_worker_id for r in incidents if r.level == 1 and r.before != r.after}
    touched |= {workers[r.before] for r in buildings if _moved(r, 1) and r.before in workers}
    touched |= {workers[r.after] for r in buildings if _moved(r, 1) and r.after in workers}
    touched |= {takes[r.after] for r in incidents if _moved(r, 1) and r.after in takes}
    touched.discard(None)
    code_of = {w: c for c, w in workers.items()}
    hh_before: dict[str, int] = defaultdict(int)
    for b in buildings:
        if b.level == 1 and b.before:
            hh_before[b.before] += b.households
    out = []
    for worker in sorted(touched):
        cases_before = sum(1 for r in incidents if r.level == 1 and r.assignee_worker_id == worker)
        cases_after = sum(
            1 for r in incidents if r.level == 1 and _new_assignee(r, takes) == worker
        )
        code = code_of.get(worker)
        out.append(
            {
                "worker_id": worker,
                "cell_code": code,
                "open_cases_before": cases_before,
                "open_cases_after": cases_after,
                "households_before": hh_before.get(code, 0) if code else 0,
                "households_after": l1_after.get(code, 0) if code else 0,
            }
        )
    return out
