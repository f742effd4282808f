"""What a draft would change: cells, households, open cases and grid workers' load.

Before = the live grid of the scope now; after = the grid the draft would leave
(`grids.planning.reassign.DRAFT_GRID`).  Buildings are placed by their inner
point in both with the one locate rule (`grids.grid.locate_sql`).  Open cases
are where they are filed now, and after where the publish's own re-location
query puts them (the same candidates, the same rule, the same tolerance), so the
cases listed as moving are the cases the publish moves; "moved" means a cell
code of the case differs.  Who would take a level-1 cell's cases
follows the duty rule (`grids.cases.duty`): the preview names the cells' own workers
who are off duty and who would stand in for them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.duty import Assignment, assign_cells
from grids.config import resolve_tolerance
from grids.grid.locate_sql import LIVE_CELLS, locate_sql, without_jit
from grids.planning.drafts import get_revision, scope_community_ids
from grids.planning.impact_types import (
    CaseMove,
    CellWorker,
    ChangedCell,
    Impact,
    ImpactTotals,
    OffDuty,
    WorkerLoad,
)
from grids.planning.publish import KEEP_SQL
from grids.planning.reassign import DRAFT_GRID, relocation_sql
from layers.tables.grid_cells import live
from layers.tables.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)

_CELLS_SQL = text(
    f"""
    WITH live AS (
      SELECT g.code, g.level, CASE WHEN g.level = 1 THEN c.code ELSE p.code END AS parent_code,
        g.geom FROM grid_cells g JOIN communities c ON c.id = g.community_id
      LEFT JOIN grid_cells p ON p.id = g.parent_id
      WHERE {live("g")} AND g.community_id = ANY(:comms)),
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
    """  # noqa: S608 - constant fragments only
)

_BUILDING_POINTS = (
    "SELECT id, ST_PointOnSurface(geom) AS pt FROM buildings WHERE community_id = ANY(:comms)"
)
_BUILDINGS_SQL = text(
    "SELECT id, households, population FROM buildings WHERE community_id = ANY(:comms) ORDER BY id"
)
_BUILDINGS_BEFORE_SQL = text(locate_sql(points=_BUILDING_POINTS, cells=LIVE_CELLS))
_BUILDINGS_AFTER_SQL = text(locate_sql(points=_BUILDING_POINTS, cells=DRAFT_GRID))
"""Each building's cells (by its inner point) in the live grid and in the one the draft leaves.

Two statements, joined here: as one, the planner runs the second far slower."""
_STORED_SQL = text(
    "SELECT i.id, i.assignee_worker_id, i.handling_level, o1.code AS old_l1, "
    "o2.code AS old_l2, o3.code AS old_l3 FROM incidents i "
    "LEFT JOIN grid_cells o1 ON o1.id = i.l1_cell_id "
    "LEFT JOIN grid_cells o2 ON o2.id = i.l2_cell_id "
    "LEFT JOIN grid_cells o3 ON o3.id = i.l3_cell_id "
    "WHERE i.status = ANY(:open) AND i.community_id = ANY(:comms) ORDER BY i.id"
)
_MOVES_SQL = text(relocation_sql(closed="CAST(:closing AS int[])", cells=DRAFT_GRID))
_CLOSING_SQL = text(
    f"SELECT b FROM unnest(CAST(:base AS int[])) AS b EXCEPT "  # noqa: S608
    f"SELECT live_id FROM ({KEEP_SQL}) k WHERE live_id IS NOT NULL"
)


@dataclass(frozen=True)
class _Building:
    """One building at one level: its cell code now and after the publish, and its people."""

    id: int
    level: int
    before: str | None
    after: str | None
    households: int
    population: int


def _placed_buildings(session: Session, params: dict[str, Any]) -> list[_Building]:
    before = {r.id: r for r in session.execute(_BUILDINGS_BEFORE_SQL, params)}
    after = {r.id: r for r in session.execute(_BUILDINGS_AFTER_SQL, params)}
    return [
        _Building(
            b.id,
            level,
            getattr(before[b.id], f"l{level}"),
            getattr(after[b.id], f"l{level}"),
            b.households,
            b.population,
        )
        for b in session.execute(_BUILDINGS_SQL, params)
        for level in (1, 2, 3)
    ]


@dataclass(frozen=True)
class _Placed:
    """One open case at one level: its cell code now and after the publish."""

    id: int
    level: int
    before: str | None
    after: str | None
    assignee_worker_id: int | None
    handling_level: str


def _placed_cases(session: Session, params: dict[str, Any]) -> list[_Placed]:
    """Open cases of the scope (and any the publish would move) at every level.

    "Now" is the cells each case is filed under; "after" is where the publish's
    re-location (`grids.planning.reassign.relocation_sql`, asked of the grid the
    draft leaves) puts it, or its cells unchanged when the publish leaves it.
    """
    stored = {r.id: r for r in session.execute(_STORED_SQL, params)}
    moves = {r.id: r for r in session.execute(_MOVES_SQL, params)}
    out = []
    for case_id in sorted(stored.keys() | moves.keys()):
        now = stored.get(case_id) or moves[case_id]
        then = moves.get(case_id)
        for level in (1, 2, 3):
            before = getattr(now, f"old_l{level}")
            after = getattr(then, f"l{level}") if then is not None else before
            out.append(
                _Placed(case_id, level, before, after, now.assignee_worker_id, now.handling_level)
            )
    return out


def impact(
    *, session: Session, revision_id: int, metric_srid: int, tolerance_m: float | None = None
) -> Impact:
    """Before/after of every changed cell, the open cases that move, and workers' load.

    Cases are placed with the locate tolerance `tolerance_m` (default: the
    configured one), as the publish will.
    """
    revision = get_revision(session=session, revision_id=revision_id)
    comms = scope_community_ids(
        session=session, scope=revision.scope, code=revision.scope_code or ""
    )
    params: dict[str, Any] = {
        "r": revision_id,
        "comms": comms,
        "communities": comms,
        "srid": metric_srid,
        "open": list(OPEN_STATUSES),
        "base": list(revision.base_cell_ids or ()),
        "tolerance_m": resolve_tolerance(tolerance_m),
    }
    params["closing"] = list(session.execute(_CLOSING_SQL, params).scalars())
    without_jit(session)
    cells = [ChangedCell(**r._mapping) for r in session.execute(_CELLS_SQL, params)]
    buildings = _placed_buildings(session, params)
    incidents = _placed_cases(session, params)
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
    return Impact(
        revision=revision_id,
        changed_cells=cells,
        incidents_moving=moving,
        workload=_workload(own, takes, incidents, l1_after, buildings),
        cells_without_worker=sorted(c for c in l1_after if c not in own),
        workers_off_duty=_off_duty(session, assigned, l1_after),
        totals=ImpactTotals(
            changed_cells=len(cells),
            households_moved=sum(r.households for r in buildings if _moved(r, 3)),
            population_moved=sum(r.population for r in buildings if _moved(r, 3)),
            open_incidents_moving=len(moving),
        ),
    )


def _moved(row: Any, level: int) -> bool:
    return row.level == level and row.before != row.after


def _l1_codes(cells: list[ChangedCell]) -> set[str]:
    return {c.code for c in cells if c.level == 1}


def _draft_l1(session: Session, revision_id: int) -> dict[str, int]:
    rows = session.execute(
        text("SELECT code, households FROM grid_draft_cells WHERE revision_id = :r AND level = 1"),
        {"r": revision_id},
    ).all()
    return {r.code: r.households for r in rows}


def _add_people(cells: list[ChangedCell], buildings: Sequence[Any]) -> None:
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
    for cell in cells:
        got = sums.get((cell.level, cell.code), {})
        cell.households_before = got.get("households_before", 0)
        cell.households_after = got.get("households_after", 0)
        cell.households_in = got.get("households_in", 0)
        cell.households_out = got.get("households_out", 0)
        cell.population_before = got.get("population_before", 0)
        cell.population_after = got.get("population_after", 0)


def _new_assignee(row: _Placed, workers: dict[str, int]) -> int | None:
    """Who a case has after the publish: a moving grid-level case goes to its new cell's taker."""
    if row.before != row.after and row.handling_level == "grid" and row.after in workers:
        return workers[row.after]
    return row.assignee_worker_id


def _moving_cases(incidents: Sequence[_Placed], workers: dict[str, int]) -> list[CaseMove]:
    by_case: dict[int, CaseMove] = {}
    for r in incidents:
        if r.before == r.after:
            continue
        case = by_case.setdefault(r.id, CaseMove(r.id))
        case.from_[f"l{r.level}"] = r.before
        case.to[f"l{r.level}"] = r.after
        if r.level == 1:
            case.assignee_before = r.assignee_worker_id
            case.assignee_after = _new_assignee(r, workers)
    return [by_case[k] for k in sorted(by_case)]


def _off_duty(
    session: Session, assigned: dict[str, Assignment], l1_after: dict[str, int]
) -> list[OffDuty]:
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
        OffDuty(
            cell_code=code,
            worker_id=a.responsible_id,
            worker_name=names.get(a.responsible_id),
            stand_in_id=a.worker_id,
            stand_in_name=names.get(a.worker_id) if a.worker_id else None,
            stand_in_reason=a.reason,
        )
        for code, a in rows
    ]


def _add_cases(
    cells: list[ChangedCell],
    incidents: Sequence[_Placed],
    workers: dict[str, int],
    assigned: dict[str, Assignment],
) -> None:
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in incidents:
        if r.before:
            counts[(r.level, r.before)]["before"] += 1
        if r.after:
            counts[(r.level, r.after)]["after"] += 1
    for cell in cells:
        got = counts.get((cell.level, cell.code), {})
        cell.open_incidents_before = got.get("before", 0)
        cell.open_incidents_after = got.get("after", 0)
        if cell.level == 1:
            before = cell.code if cell.change != "added" else None
            after = cell.code if cell.change != "removed" else None
            took = assigned.get(after) if after else None
            cell.worker = CellWorker(
                worker_before=workers.get(before) if before else None,
                worker_after=workers.get(after) if after else None,
                worker_after_on_duty=took.responsible_on_duty if took else None,
                assignee_after=took.worker_id if took else None,
                assignment_reason_after=took.reason if took else None,
            )


def _workload(workers, takes, incidents, l1_after, buildings) -> list[WorkerLoad]:
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
        code = code_of.get(worker)
        out.append(
            WorkerLoad(
                worker_id=worker,
                cell_code=code,
                open_cases_before=sum(
                    1 for r in incidents if r.level == 1 and r.assignee_worker_id == worker
                ),
                open_cases_after=sum(
                    1 for r in incidents if r.level == 1 and _new_assignee(r, takes) == worker
                ),
                households_before=hh_before.get(code, 0) if code else 0,
                households_after=l1_after.get(code, 0) if code else 0,
            )
        )
    return out
