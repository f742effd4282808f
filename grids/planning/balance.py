"""Suggest balanced level-1 (or level-2) cells for a draft, from whole courtyards.

Per community (level 1) or per level-1 cell (level 2), the level-3 cells are the
units (merged where a courtyard spans several), `grids.planning.regions` groups them into
contiguous regions balanced in households and open cases, and the draft is
rewritten: new cells are unions of their level-3 cells (so they nest exactly),
level-2 cells are split where a new level-1 boundary crosses them, level-3
geometry is kept and recoded (`grids.planning.balance_cells`).  Region codes reuse the
old code that shares the most households, so grid workers keep most of their people.

A suggestion runs in three steps so that the long one holds nothing: read the
draft and its context (`read_suggestion`, no locks), compute the regions
(`compute_suggestion`, no database; reports progress and can be stopped there),
and write them (`write_suggestion`, brief; refuses if the draft changed meanwhile).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.config import resolve_tolerance
from grids.grid.locate_sql import locate_sql, without_jit
from grids.planning.balance_cells import Union, build_cells
from grids.planning.drafts import (
    DraftRow,
    get_revision,
    read_draft,
    replace_draft,
    require_draft,
    scope_community_ids,
)
from grids.planning.reassign import DRAFT_GRID
from grids.planning.regions import Unit, balance_figures, balanced_regions, merge_by_courtyard
from grids.planning.validation import geoms_to_metric
from layers.core.errors import ConflictError, UnprocessableError
from layers.core.limit_settings import LimitSettings
from layers.core.limits import check_limit
from layers.tables.base import UTM48N
from layers.tables.grid_cells import GridRevision
from layers.tables.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SuggestOptions:
    """Which level to redraw and how big: households per cell or a number of cells."""

    level: int = 1
    target_households: int | None = None
    cells: int | None = None
    metric_srid: int = UTM48N
    seed: int = 2017
    locate_tolerance_m: float | None = None
    """Tolerance placing open cases in cells (None: the configured one)."""


@dataclass
class Group:
    """One parent (community or level-1 cell) whose children are redrawn."""

    code: str
    old_children: list[int]
    l3: list[int]


def ancestry(rows: Sequence[DraftRow]) -> list[dict[int, int]]:
    """For each row, the row index of its ancestor at every level above it (and itself)."""
    index: dict[tuple[int, str | None], int] = {(r.level, r.code): i for i, r in enumerate(rows)}
    out: list[dict[int, int]] = []
    for i, r in enumerate(rows):
        chain = {r.level: i}
        row = r
        while row.level > 1 and (row.level - 1, row.parent_code) in index:
            j = index[(row.level - 1, row.parent_code)]
            chain[row.level - 1] = j
            row = rows[j]
        out.append(chain)
    return out


def _groups(rows: Sequence[DraftRow], chains: list[dict[int, int]], level: int) -> list[Group]:
    """Parents to redraw (communities for level 1, level-1 cells for level 2) and their cells."""
    groups: dict[str, Group] = {}
    for i, r in enumerate(rows):
        top = chains[i].get(level)
        if top is None or r.level not in (level, 3):
            continue
        head = rows[top]
        key = (head.parent_code or head.code[:12]) if level == 1 else head.parent_code
        if not key:
            continue
        group = groups.setdefault(key, Group(key, [], []))
        (group.old_children if r.level == level else group.l3).append(i)
    return [groups[k] for k in sorted(groups)]


_NEAR_DRAFT = (
    "SELECT i.id, i.geom AS pt FROM incidents i WHERE i.status = ANY(:open) AND i.geom && "
    "(SELECT ST_Expand(ST_SetSRID(ST_Extent(geom)::geometry, 4326), 0.02) "
    "FROM grid_draft_cells WHERE revision_id = :r)"
)
_LOCATED_NEAR_DRAFT = locate_sql(points=_NEAR_DRAFT, cells=DRAFT_GRID)
_CASES_PER_CELL_SQL = text(
    f"SELECT l3 AS code, count(*) AS n FROM ({_LOCATED_NEAR_DRAFT}) x "  # noqa: S608
    "WHERE l3 IS NOT NULL GROUP BY l3"
)


def _cases_per_cell(
    session: Session, revision: GridRevision, tolerance_m: float | None
) -> dict[str, int]:
    """Open cases per level-3 cell of the grid the draft would leave, by the one locate rule.

    Covers with the lowest code on an edge, else the nearest cell within the
    tolerance (`grids.grid.locate_sql`): the cells the publish would file them under.
    """
    without_jit(session)
    rows = session.execute(
        _CASES_PER_CELL_SQL,
        {
            "r": revision.id,
            "comms": scope_community_ids(
                session=session, scope=revision.scope, code=revision.scope_code or ""
            ),
            "open": list(OPEN_STATUSES),
            "tolerance_m": resolve_tolerance(tolerance_m),
        },
    ).all()
    return {r.code: r.n for r in rows}


def _courtyards(session: Session, srid: int) -> list[Any]:
    rows = session.execute(text("SELECT ST_AsBinary(geom) AS wkb FROM courtyards")).scalars()
    return geoms_to_metric(shapely.from_wkb([bytes(w) for w in rows]), srid)


def _region_count(group: Group, hh: float, total_hh: float, options: SuggestOptions) -> int:
    if options.target_households:
        return max(1, round(hh / options.target_households))
    if options.cells:
        return max(1, round(options.cells * hh / max(total_hh, 1.0)))
    return max(1, len(group.old_children))


@dataclass
class SuggestPlan:
    """What a suggestion writes, and the per-cell totals before and after."""

    rows: list[DraftRow] = field(default_factory=list)
    replaced: set[int] = field(default_factory=set)
    figures: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ("hh_before", "cs_before", "hh_after", "cs_after")}
    )

    def add(self, key: str, indexes: Sequence[int], rows, cases) -> None:
        """Record one cell's households and open cases (from its level-3 cells)."""
        self.figures["hh_" + key].append(sum(rows[i].households for i in indexes))
        self.figures["cs_" + key].append(sum(cases.get(rows[i].code, 0) for i in indexes))


@dataclass
class SuggestInput:
    """Everything a suggestion reads, taken in one short read: the draft and its context.

    `stamp` identifies the draft's content (its cells are replaced, never edited
    in place, so new ids mean new content): the write refuses to overwrite a draft
    that changed while the suggestion was being computed.
    """

    revision_id: int
    stamp: tuple[int, int]
    rows: list[DraftRow]
    chains: list[dict[int, int]]
    groups: list[Group]
    cases: dict[str, int]
    metric: list[Any]
    yards: list[Any]
    total_hh: float
    regions: list[int]
    """How many new cells each group gets."""

    @property
    def cells(self) -> int:
        """How many cells the suggestion draws in all."""
        return sum(self.regions)

    @property
    def work(self) -> int:
        """A measure of the computation: Σ over groups drawn afresh of level-3 cells × cells."""
        return sum(len(g.l3) * k for g, k in zip(self.groups, self.regions, strict=True) if k > 1)


def draft_stamp(*, session: Session, revision_id: int) -> tuple[int, int]:
    """(number, highest id) of the draft's cells: changes whenever the draft is replaced."""
    row = session.execute(
        text("SELECT count(*), coalesce(max(id), 0) FROM grid_draft_cells WHERE revision_id = :r"),
        {"r": revision_id},
    ).one()
    return int(row[0]), int(row[1])


def read_suggestion(*, session: Session, revision_id: int, options: SuggestOptions) -> SuggestInput:
    """Read what a suggestion needs without locking anything; 422 for a level or empty draft."""
    if options.level not in (1, 2):
        raise UnprocessableError("suggestions are for level 1 or 2", code="bad_level")
    revision = get_revision(session=session, revision_id=revision_id)
    require_draft(revision)
    stamp = draft_stamp(session=session, revision_id=revision_id)
    rows = read_draft(session=session, revision_id=revision_id)
    chains = ancestry(rows)
    groups = [g for g in _groups(rows, chains, options.level) if g.l3]
    if not groups:
        raise UnprocessableError("the draft has no level-3 cells to group", code="nothing_to_group")
    total_hh = float(sum(rows[i].households for g in groups for i in g.l3))
    regions = [
        min(len(g.l3), _region_count(g, sum(rows[i].households for i in g.l3), total_hh, options))
        for g in groups
    ]
    cases = _cases_per_cell(session, revision, options.locate_tolerance_m)
    metric = geoms_to_metric([r.geom for r in rows], options.metric_srid)
    yards = _courtyards(session, options.metric_srid)
    return SuggestInput(
        revision_id, stamp, rows, chains, groups, cases, metric, yards, total_hh, regions
    )


def check_suggestion(inp: SuggestInput, limits: LimitSettings) -> None:
    """Refuse (422 ``limit_exceeded``) a suggestion drawing too many cells or too much work."""
    check_limit(
        "cells",
        inp.cells,
        limits.suggest_cells,
        hint="ask for fewer cells or larger ones (target_households)",
    )
    check_limit(
        "work",
        inp.work,
        limits.suggest_work,
        hint="suggest for a smaller scope (a street or a community) or fewer cells",
    )


Progress = Callable[[float, str], None]
"""progress(fraction done, what is being done) — may raise to stop the computation."""


def compute_suggestion(
    inp: SuggestInput, options: SuggestOptions, progress: Progress | None = None
) -> SuggestPlan:
    """The balanced cells (no database): the long part, group by group."""
    plan = SuggestPlan()
    context = (inp.rows, inp.chains, inp.cases, inp.metric, inp.yards)
    weights = [len(g.l3) * max(k, 1) for g, k in zip(inp.groups, inp.regions, strict=True)]
    total, done = float(sum(weights)), 0.0
    for group, weight in zip(inp.groups, weights, strict=True):
        if progress is not None:
            progress(done / total, f"group {group.code}")
        _redraw_group(plan, group, context, inp.total_hh, options)
        done += weight
    return plan


def write_suggestion(
    *, session: Session, inp: SuggestInput, plan: SuggestPlan, options: SuggestOptions, actor, role
) -> dict[str, Any]:
    """Write the suggested cells into the draft (brief); 409 ``draft_changed`` if it moved on."""
    require_draft(get_revision(session=session, revision_id=inp.revision_id, lock=True))
    if draft_stamp(session=session, revision_id=inp.revision_id) != inp.stamp:
        raise ConflictError(
            f"draft {inp.revision_id} was edited while the suggestion was computed; "
            "nothing was written: ask for a suggestion again",
            code="draft_changed",
        )
    kept = [r for i, r in enumerate(inp.rows) if i not in plan.replaced]
    replace_draft(
        session=session,
        revision_id=inp.revision_id,
        rows=kept + plan.rows,
        actor=actor,
        role=role,
    )
    f = plan.figures
    return {
        "revision": inp.revision_id,
        "level": options.level,
        "groups": len(inp.groups),
        "cells_before": len(f["hh_before"]),
        "cells_after": len(f["hh_after"]),
        "balance": {
            "households": {
                "before": balance_figures(f["hh_before"]),
                "after": balance_figures(f["hh_after"]),
            },
            "open_cases": {
                "before": balance_figures(f["cs_before"]),
                "after": balance_figures(f["cs_after"]),
            },
        },
    }


def suggest(
    *, session: Session, revision_id: int, options: SuggestOptions, actor: str, role: str
) -> dict[str, Any]:
    """Rewrite the draft with balanced cells of `options.level`; returns balance figures.

    Read, compute and write in the caller's transaction (the benchmark's way); the
    service instead ends the read transaction before computing (`geo_api`'s
    suggestion runs), so no lock or snapshot is held during the long part.
    """
    inp = read_suggestion(session=session, revision_id=revision_id, options=options)
    plan = compute_suggestion(inp, options)
    return write_suggestion(
        session=session, inp=inp, plan=plan, options=options, actor=actor, role=role
    )


def _redraw_group(plan: SuggestPlan, group: Group, context, total_hh: float, options) -> None:
    """Regionalise one parent's units and add the new cells (and figures) to the plan."""
    rows, chains, cases, metric, yards = context
    units = _units(group, rows, metric, yards, cases)
    k = _region_count(group, sum(u.households for u in units), total_hh, options)
    owner = {i: chains[i].get(options.level) for i in group.l3}
    labels = balanced_regions(units, k, options.seed, [owner[u.members[0]] for u in units])
    regions = [
        [m for u, lab in zip(units, labels, strict=True) if lab == r for m in u.members]
        for r in range(labels.max() + 1)
    ]
    union = Union(metric, options.metric_srid)
    plan.rows += build_cells(group, regions, rows, chains, options.level, union)
    plan.replaced |= set(_subtree(group, rows, options.level))
    for child in group.old_children:
        plan.add("before", [i for i in group.l3 if owner[i] == child], rows, cases)
    for region in regions:
        plan.add("after", region, rows, cases)


def _units(group, rows, metric, yards, cases) -> list[Unit]:
    geoms = [metric[i] for i in group.l3]
    tree_yards = [y for y in yards if not y.is_empty]
    units = []
    for members in merge_by_courtyard(geoms, tree_yards):
        idx = tuple(group.l3[m] for m in members)
        units.append(
            Unit(
                members=idx,
                households=float(sum(rows[i].households for i in idx)),
                cases=float(sum(cases.get(rows[i].code, 0) for i in idx)),
                geom=shapely.union_all([metric[i] for i in idx]),
            )
        )
    return units


def _subtree(group: Group, rows: Sequence[DraftRow], level: int) -> list[int]:
    """Rows replaced by a suggestion: the old children, their children and the level-3 cells."""
    old = {rows[i].code for i in group.old_children}
    mids = [i for i, r in enumerate(rows) if level == 1 and r.level == 2 and r.parent_code in old]
    return [*group.old_children, *mids, *group.l3]
