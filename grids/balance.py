"""Suggest balanced level-1 (or level-2) cells for a draft, from whole courtyards.

Per community (level 1) or per level-1 cell (level 2), the level-3 cells are the
units (merged where a courtyard spans several), `grids.regions` groups them into
contiguous regions balanced in households and open cases, and the draft is
rewritten: new cells are unions of their level-3 cells (so they nest exactly),
level-2 cells are split where a new level-1 boundary crosses them, level-3
geometry is kept and recoded.  Region codes reuse the old code that shares the
most households, so grid workers keep most of their people.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.drafts import DraftRow, get_revision, read_draft, replace_draft, require_draft
from grids.regions import Unit, balance_figures, balanced_regions, merge_by_courtyard, reading_order
from grids.validation import geom_to_wgs84, geoms_to_metric
from layers.base import UTM48N
from layers.errors import UnprocessableError
from layers.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)

GRID_M = 1e-3
"""Precision grid of suggested boundaries, metres."""


@dataclass(frozen=True)
class SuggestOptions:
    """Which level to redraw and how big: households per cell or a number of cells."""

    level: int = 1
    target_households: int | None = None
    cells: int | None = None
    metric_srid: int = UTM48N
    seed: int = 2017


@dataclass
class Group:
    """One parent (community or level-1 cell) whose children are redrawn."""

    code: str
    old_children: list[int]
    l3: list[int]


def ancestry(rows: Sequence[DraftRow]) -> list[dict[int, int]]:
    """For each row, the row index of its ancestor at every level above it (and itself)."""
    index = {(r.level, r.code): i for i, r in enumerate(rows)}
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


def _cases_per_cell(session: Session, revision_id: int) -> dict[str, int]:
    """Open cases per draft level-3 cell (by point, lowest code wins on an edge)."""
    rows = session.execute(
        text(
            "SELECT code, count(*) AS n FROM (SELECT DISTINCT ON (i.id) d.code FROM incidents i "
            "JOIN grid_draft_cells d ON d.revision_id = :r AND d.level = 3 "
            "AND d.geom && i.geom AND ST_Covers(d.geom, i.geom) WHERE i.status = ANY(:open) "
            "ORDER BY i.id, d.code) x GROUP BY code"
        ),
        {"r": revision_id, "open": list(OPEN_STATUSES)},
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
class _Plan:
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


def suggest(
    *, session: Session, revision_id: int, options: SuggestOptions, actor: str, role: str
) -> dict[str, Any]:
    """Rewrite the draft with balanced cells of `options.level`; returns balance figures."""
    if options.level not in (1, 2):
        raise UnprocessableError("suggestions are for level 1 or 2", code="bad_level")
    require_draft(get_revision(session=session, revision_id=revision_id, lock=True))
    rows = read_draft(session=session, revision_id=revision_id)
    chains = ancestry(rows)
    groups = [g for g in _groups(rows, chains, options.level) if g.l3]
    if not groups:
        raise UnprocessableError("the draft has no level-3 cells to group", code="nothing_to_group")
    cases = _cases_per_cell(session, revision_id)
    metric = geoms_to_metric([r.geom for r in rows], options.metric_srid)
    context = (rows, chains, cases, metric, _courtyards(session, options.metric_srid))
    total_hh = float(sum(rows[i].households for g in groups for i in g.l3))
    plan = _Plan()
    for group in groups:
        _redraw_group(plan, group, context, total_hh, options)
    kept = [r for i, r in enumerate(rows) if i not in plan.replaced]
    replace_draft(
        session=session, revision_id=revision_id, rows=kept + plan.rows, actor=actor, role=role
    )
    f = plan.figures
    return {
        "revision": revision_id,
        "level": options.level,
        "groups": len(groups),
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


def _redraw_group(plan: _Plan, group: Group, context, total_hh: float, options) -> None:
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
    union = _Union(metric, options.metric_srid)
    plan.rows += _build_cells(group, regions, rows, chains, options.level, union)
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


def _match_codes(group: Group, regions: list[list[int]], rows, chains, level: int) -> list[str]:
    """A code per region: the old code sharing most households, new sequence numbers after."""
    old = [rows[i].code for i in group.old_children]
    column = {child: j for j, child in enumerate(group.old_children)}
    weight = np.zeros((len(regions), len(old)))
    for r, members in enumerate(regions):
        for i in members:
            j = column.get(chains[i].get(level, -1))
            if j is not None:
                weight[r, j] += rows[i].households + 1
    codes: list[str | None] = [None] * len(regions)
    if len(old):
        ri, ci = linear_sum_assignment(-weight)
        for r, c in zip(ri, ci, strict=True):
            codes[r] = old[c]
    used = {int(c[-3:]) for c in old}
    seq = iter(n for n in range(1, 1000) if n not in used)
    return [c or f"{group.code}{next(seq):03d}" for c in codes]


@dataclass(frozen=True)
class _Union:
    """Union of level-3 cells, done in metres on a millimetre grid, returned in EPSG:4326.

    A plain union keeps micrometre spikes where T-junctions meet, valid in degrees
    but not once projected; snapping to 1 mm removes them (well below tolerance).
    """

    metric: list[Any]
    srid: int

    def __call__(self, members: Sequence[int]) -> shapely.MultiPolygon:
        merged = shapely.union_all([self.metric[i] for i in members], grid_size=GRID_M)
        geom = geom_to_wgs84(merged, self.srid)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        return _multi(geom)


def _build_cells(group, regions, rows, chains, level: int, union: _Union) -> list[DraftRow]:
    """New cells of `level` (unions of level-3 cells) and their re-coded subtree."""
    codes = _match_codes(group, regions, rows, chains, level)
    out: list[DraftRow] = []
    for code, members in zip(codes, regions, strict=True):
        out.append(DraftRow(code, level, group.code, None, union(members)))
        if level == 1:
            out += _split_level2(code, members, rows, union)
        else:
            out += _recode(code, 3, members, rows)
    return out


def _split_level2(l1_code: str, members: list[int], rows, union: _Union) -> list[DraftRow]:
    """Level-2 cells inside a new level-1 cell: its level-3 cells grouped by old level-2."""
    by_old: dict[str, list[int]] = defaultdict(list)
    for i in members:
        by_old[rows[i].parent_code or ""].append(i)
    parts = [by_old[k] for k in sorted(by_old)]
    geoms = [union(p) for p in parts]
    out: list[DraftRow] = []
    for n, j in enumerate(reading_order(geoms), start=1):
        code = f"{l1_code}{n:03d}"
        out.append(DraftRow(code, 2, l1_code, None, geoms[j]))
        out += _recode(code, 3, parts[j], rows)
    return out


def _recode(parent: str, level: int, members: list[int], rows) -> list[DraftRow]:
    order = reading_order([rows[i].geom for i in members])
    return [
        DraftRow(f"{parent}{n:03d}", level, parent, rows[members[j]].name, rows[members[j]].geom)
        for n, j in enumerate(order, start=1)
    ]


def _multi(geom) -> shapely.MultiPolygon:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.MultiPolygon(polys)
