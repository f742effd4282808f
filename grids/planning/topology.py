"""Validation of a boundary revision: is the drafted grid a clean, nested tiling?

Pure geometry, no database: cells come in with metric geometries (EPSG:32648,
metres) and problems go out with the problem geometry itself (the overlap, the
gap, the piece outside the parent, the self-intersection point), its area in m²
and the codes of the cells involved.

The tolerance is a *width*, in metres: a leftover piece is float noise only when
no disc of diameter `tolerance_m` fits inside it.  Nothing wider is hidden, and
a noise piece's area is below that of such a disc, which makes the cheap
area-sum shortcuts below safe (they never skip a piece the width rule keeps).
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from grids.grid.cell_codes import code_problem
from layers.core.constants import GRID_NOISE_M, MIN_CELL_AREA_M2

logger = logging.getLogger(__name__)

KINDS = (
    "invalid_geometry",
    "duplicate_code",
    "bad_code",
    "orphan",
    "empty_parent",
    "too_small",
    "outside_scope",
    "outside_parent",
    "overlap",
    "gap",
)
"""Every problem kind, in report order."""

_REASON_POINT = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]")


@dataclass(frozen=True)
class DraftCell:
    """A cell as drafted: code, level, parent code and metric (EPSG:32648) geometry."""

    code: str
    level: int
    parent_code: str | None
    geom: BaseGeometry


@dataclass(frozen=True)
class Problem:
    """One problem: its kind, the cells involved, the problem geometry (metric) and area (m²)."""

    kind: str
    cells: tuple[str, ...]
    geom: BaseGeometry | None
    area_m2: float
    detail: str


@dataclass(frozen=True)
class ScopeContext:
    """What a draft is checked against: the scope's communities and outline (metric)."""

    communities: dict[str, BaseGeometry]
    scope: BaseGeometry
    tolerance_m: float = GRID_NOISE_M
    min_area_m2: float = MIN_CELL_AREA_M2

    @property
    def noise_area_m2(self) -> float:
        """Largest area a piece narrower than the tolerance can never reach (a disc's)."""
        return math.pi * (self.tolerance_m / 2.0) ** 2


def significant_parts(geom: BaseGeometry | None, ctx: ScopeContext) -> list[BaseGeometry]:
    """The polygon parts of `geom` wider than the tolerance somewhere (noise dropped)."""
    if geom is None or geom.is_empty:
        return []
    parts = np.asarray(shapely.get_parts(_polygonal(geom)), dtype=object)
    if not len(parts):
        return []
    parts = parts[shapely.area(parts) >= ctx.noise_area_m2]
    if not len(parts):
        return []
    shrunk = shapely.buffer(parts, -ctx.tolerance_m / 2.0)
    return list(parts[~shapely.is_empty(shrunk)])


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _problem(kind: str, cells: Iterable[str], geom: BaseGeometry | None, detail: str) -> Problem:
    area = float(geom.area) if geom is not None and not geom.is_empty else 0.0
    return Problem(kind, tuple(cells), geom, area, detail)


def _pieces(kind: str, cells: Sequence[str], geom, ctx: ScopeContext, detail: str):
    return [_problem(kind, cells, part, detail) for part in significant_parts(geom, ctx)]


def check_codes(cells: Sequence[DraftCell], ctx: ScopeContext) -> list[Problem]:
    """Duplicate codes, and codes that break the published shape or their parent's prefix."""
    problems: list[Problem] = []
    by_code: dict[str, list[DraftCell]] = defaultdict(list)
    for cell in cells:
        by_code[cell.code].append(cell)
        reason = code_problem(cell.code, cell.level, cell.parent_code, set(ctx.communities))
        if reason:
            problems.append(_problem("bad_code", [cell.code], cell.geom, reason))
    for code, same in by_code.items():
        if len(same) > 1:
            geom = shapely.union_all([_repaired(c.geom) for c in same])
            detail = f"{len(same)} cells share the code {code}"
            problems.append(_problem("duplicate_code", [code] * len(same), geom, detail))
    return problems


def check_geometry(cells: Sequence[DraftCell], ctx: ScopeContext) -> list[Problem]:
    """Invalid rings with the GEOS reason and location, empty and too small cells."""
    problems: list[Problem] = []
    for cell in cells:
        geom = cell.geom
        if geom is None or geom.is_empty:
            problems.append(_problem("invalid_geometry", [cell.code], None, "empty geometry"))
            continue
        reason = shapely.is_valid_reason(geom)
        if reason != "Valid Geometry":
            problems.append(
                _problem("invalid_geometry", [cell.code], _reason_point(reason), reason)
            )
            continue
        if geom.area < ctx.min_area_m2:
            detail = f"{geom.area:.1f} m² is below the minimum of {ctx.min_area_m2:g} m²"
            problems.append(_problem("too_small", [cell.code], geom, detail))
    return problems


def _reason_point(reason: str) -> BaseGeometry | None:
    match = _REASON_POINT.search(reason)
    return Point(float(match.group(1)), float(match.group(2))) if match else None


def _repaired(geom: BaseGeometry | None) -> BaseGeometry:
    """A valid polygonal stand-in for an invalid cell, so the other checks still run."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    return geom if geom.is_valid else _polygonal(shapely.make_valid(geom))


def validate(cells: Sequence[DraftCell], ctx: ScopeContext) -> list[Problem]:
    """Every problem of a draft, sorted by kind then cells (deterministic reports)."""
    problems = check_codes(cells, ctx) + check_geometry(cells, ctx)
    fixed = [
        DraftCell(c.code, c.level, c.parent_code, _repaired(c.geom))
        for c in cells
        if c.level in (1, 2, 3)
    ]
    problems += check_nesting(fixed, ctx)
    order = {k: i for i, k in enumerate(KINDS)}
    problems.sort(key=lambda p: (order[p.kind], p.cells, p.detail))
    logger.info("validated %d cells: %d problems", len(cells), len(problems))
    return problems


def check_nesting(cells: Sequence[DraftCell], ctx: ScopeContext) -> list[Problem]:
    """Orphans, empty parents, and per parent: pieces outside it, sibling overlaps, gaps."""
    parents: dict[tuple[int, str], BaseGeometry] = {
        (0, code): geom for code, geom in ctx.communities.items()
    }
    for cell in cells:
        parents.setdefault((cell.level, cell.code), cell.geom)
    groups: dict[tuple[int, str], list[DraftCell]] = defaultdict(list)
    problems: list[Problem] = []
    for cell in cells:
        key = (cell.level - 1, _parent_of(cell))
        if key in parents:
            groups[key].append(cell)
        else:
            detail = f"parent {key[1]} is not a level-{key[0]} cell of this draft"
            problems.append(_problem("orphan", [cell.code], cell.geom, detail))
            problems += _pieces("outside_scope", [cell.code], cell.geom - ctx.scope, ctx, "")
    for key, parent_geom in sorted(parents.items()):
        children = groups.get(key, [])
        if key[0] < 3 and not children:
            detail = f"{_level_name(key[0])} {key[1]} has no level-{key[0] + 1} cells"
            problems.append(_problem("empty_parent", [key[1]], parent_geom, detail))
        elif children:
            problems += check_group(key[1], parent_geom, children, ctx)
    return problems


def _parent_of(cell: DraftCell) -> str:
    if cell.level == 1:
        return cell.parent_code or cell.code[:12]
    return cell.parent_code or ""


def _level_name(level: int) -> str:
    return "community" if level == 0 else f"level-{level} cell"


def check_group(
    parent_code: str, parent: BaseGeometry, children: Sequence[DraftCell], ctx: ScopeContext
) -> list[Problem]:
    """One parent and its children: outside the parent or scope, overlapping, leaving gaps."""
    geoms = np.asarray([c.geom for c in children], dtype=object)
    union = shapely.union_all(geoms)
    problems: list[Problem] = []
    if shapely.area(shapely.difference(union, parent)) >= ctx.noise_area_m2:
        problems += _outside(parent_code, parent, children, ctx)
    if float(shapely.area(geoms).sum()) - union.area >= ctx.noise_area_m2:
        problems += _overlaps(children, ctx)
    gap = shapely.difference(parent, union)
    if gap.area >= ctx.noise_area_m2:
        problems += _gaps(parent_code, gap, children, ctx)
    return problems


def _outside(parent_code, parent, children, ctx) -> list[Problem]:
    problems: list[Problem] = []
    for cell in children:
        out = cell.geom - parent
        if out.area < ctx.noise_area_m2:
            continue
        inside = f"outside its parent {parent_code}"
        problems += _pieces(
            "outside_parent", [cell.code, parent_code], out & ctx.scope, ctx, inside
        )
        problems += _pieces("outside_scope", [cell.code], out - ctx.scope, ctx, "outside the scope")
    return problems


def _overlaps(children: Sequence[DraftCell], ctx: ScopeContext) -> list[Problem]:
    geoms = [c.geom for c in children]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    problems: list[Problem] = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        both = sorted([children[i].code, children[j].code])
        detail = f"{both[0]} and {both[1]} overlap"
        problems += _pieces("overlap", both, geoms[i] & geoms[j], ctx, detail)
    return problems


def _gaps(parent_code, gap, children, ctx) -> list[Problem]:
    parts = significant_parts(gap, ctx)
    if not parts:
        return []
    geoms = [c.geom for c in children]
    tree = shapely.STRtree(geoms)
    problems: list[Problem] = []
    for part in parts:
        near = tree.query(part, predicate="dwithin", distance=ctx.tolerance_m)
        codes = sorted(children[int(k)].code for k in near)
        detail = f"a gap inside {parent_code} covered by none of its children"
        problems.append(_problem("gap", [parent_code, *codes], part, detail))
    return problems
