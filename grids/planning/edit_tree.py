"""A draft's cells as a nested tree in metres, and the change set one editor edit makes.

Pure geometry, no database: `grids.planning.edit_ops` turns an edit (move units,
split, merge, reshape, new cell, delete) into changes on this tree, and
`grids.planning.edit_store` writes only the changed rows.  Every change keeps the
nesting: a cell's children are clipped to it and gained area goes to the child
sharing the longest edge with it, so an edit never leaves a child outside its parent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from grids.grid.cell_codes import code_length
from layers.core.errors import ConflictError, NotFoundError, UnprocessableError

GRID_M = 0.001
"""Overlay precision (m): results are snapped to a millimetre grid, so shared edges coincide."""
SNAP_M = 0.5
"""Unit outlines within this distance of a cell's vertices snap onto them (no slivers)."""
SLIVER_M = 1.0
"""A leftover piece narrower than this is a sliver: it goes with the moved units."""
CLOSE_M = 0.01
"""Buffer/unbuffer width closing hairline seams in a union."""
NOISE_M2 = 0.01
"""A piece smaller than this (m²) is float noise, not a cell."""


@dataclass(frozen=True)
class Cell:
    """One draft cell in metres; `key` is its row id (negative for a cell this edit creates)."""

    key: int
    code: str
    level: int
    parent_code: str | None
    name: str | None
    geom: BaseGeometry


@dataclass
class Tree:
    """The draft's cells, with the scope's communities (level-0 parents) in metres."""

    cells: dict[int, Cell]
    communities: dict[str, BaseGeometry]
    before: dict[int, Cell | None] = field(default_factory=dict)
    """Cells this edit changed, as they were (None: created by it)."""
    outline: BaseGeometry | None = None
    """The scope's outline (the union of its communities), computed when first needed."""
    _next_key: int = -1

    def by_code(self, code: str) -> Cell:
        """The one cell with `code` (404 when none, 409 when the draft holds it twice)."""
        found = [c for c in self.cells.values() if c.code == code]
        if not found:
            raise NotFoundError(f"the draft has no cell {code}", code="cell_not_found", cell=code)
        if len(found) > 1:
            raise ConflictError(
                f"the draft holds {len(found)} cells coded {code}; fix the codes first",
                code="duplicate_code",
                cell=code,
            )
        return found[0]

    def children(self, cell: Cell) -> list[Cell]:
        """The cells one level down whose parent is `cell`."""
        return [
            c
            for c in self.cells.values()
            if c.level == cell.level + 1 and c.parent_code == cell.code
        ]

    def parent_geom(self, cell: Cell) -> BaseGeometry | None:
        """The geometry of the cell's parent (its community for level 1), None if absent."""
        if cell.level == 1:
            return self.communities.get(cell.parent_code or cell.code[:12])
        found = [c for c in self.cells.values() if c.level == cell.level - 1]
        parents = [c for c in found if c.code == cell.parent_code]
        return parents[0].geom if len(parents) == 1 else None

    def chain(self, cell: Cell) -> list[Cell]:
        """The cell and its ancestors, top level first."""
        out = [cell]
        while out[0].level > 1:
            up = [
                c
                for c in self.cells.values()
                if c.level == out[0].level - 1 and c.code == out[0].parent_code
            ]
            if len(up) != 1:
                break
            out.insert(0, up[0])
        return out

    def put(self, cell: Cell) -> None:
        """Set a cell's new state, remembering the old one the first time."""
        if cell.key not in self.before:
            self.before[cell.key] = self.cells.get(cell.key)
        self.cells[cell.key] = cell

    def create(self, *, code: str, level: int, parent: str | None, geom: BaseGeometry) -> Cell:
        """A new cell (negative key until stored)."""
        cell = Cell(self._next_key, code, level, parent, None, geom)
        self._next_key -= 1
        self.put(cell)
        return cell

    def delete(self, cell: Cell) -> None:
        """Remove a cell and every cell below it."""
        for child in self.children(cell):
            self.delete(child)
        if cell.key not in self.before:
            self.before[cell.key] = self.cells.get(cell.key)
        self.cells.pop(cell.key, None)

    def at_level(self, level: int) -> list[Cell]:
        """Every cell of a level."""
        return [c for c in self.cells.values() if c.level == level]

    def next_code(self, parent_code: str, level: int) -> str:
        """The next free grid sequence under a parent (3 digits; 422 when 999 are used)."""
        prefix = parent_code if level > 1 else parent_code[:12]
        used = [
            int(c.code[-3:])
            for c in self.cells.values()
            if c.level == level and c.code.startswith(prefix) and c.code[-3:].isdigit()
        ]
        seq = max(used, default=0) + 1
        if seq > 999:
            raise UnprocessableError(f"{parent_code} has no free code", code="codes_exhausted")
        code = f"{prefix}{seq:03d}"
        assert len(code) == code_length(level)
        return code


def polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygon parts of a geometry (valid), dropping points, lines and noise."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    parts = [p for q in parts for p in shapely.get_parts(q) if p.area >= NOISE_M2]
    return MultiPolygon(parts) if parts else MultiPolygon()


def minus(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """`a` without `b`, on the overlay grid."""
    return polygonal(shapely.difference(a, b, grid_size=GRID_M))


def plus(*geoms: BaseGeometry) -> BaseGeometry:
    """The union, seams closed (buffer out and back by a centimetre, mitred)."""
    union = shapely.union_all([g for g in geoms if not g.is_empty], grid_size=GRID_M)
    closed = union.buffer(CLOSE_M, join_style="mitre").buffer(-CLOSE_M, join_style="mitre")
    return polygonal(shapely.set_precision(closed, GRID_M))


def within(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """`a` clipped to `b`, on the overlay grid."""
    return polygonal(shapely.intersection(a, b, grid_size=GRID_M))


def slivers(geom: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """(what stays, the narrow pieces): pieces no 1 m wide strip fits in are slivers."""
    parts = np.asarray(shapely.get_parts(geom), dtype=object)
    if not len(parts):
        return geom, MultiPolygon()
    narrow = shapely.is_empty(shapely.buffer(parts, -SLIVER_M / 2.0))
    keep = MultiPolygon(list(parts[~narrow])) if (~narrow).any() else MultiPolygon()
    thin = MultiPolygon(list(parts[narrow])) if narrow.any() else MultiPolygon()
    return keep, thin


def snapped(region: BaseGeometry, near: Iterable[Cell]) -> BaseGeometry:
    """A region whose vertices within `SNAP_M` of the nearby cells' vertices snap onto them."""
    ref = shapely.union_all([c.geom.boundary for c in near])
    if ref.is_empty:
        return region
    return polygonal(shapely.snap(region, ref, SNAP_M))


def best_child(tree: Tree, parent: Cell, region: BaseGeometry) -> Cell | None:
    """The child of `parent` sharing the longest edge with `region` (else the nearest)."""
    kids = tree.children(parent)
    if not kids:
        return None
    ring = region.buffer(SNAP_M)
    shared = [c.geom.boundary.intersection(ring).length for c in kids]
    if max(shared) > 0:
        return kids[int(np.argmax(shared))]
    return min(kids, key=lambda c: c.geom.distance(region))


def absorb(tree: Tree, cell: Cell, gain: BaseGeometry) -> None:
    """`cell` gains `gain`; below it the best child at each level gains it too."""
    if gain.is_empty:
        return
    tree.put(replace(cell, geom=plus(cell.geom, gain)))
    child = best_child(tree, cell, gain)
    if child is not None:
        absorb(tree, child, within(gain, tree.cells[cell.key].geom))


def clip_below(tree: Tree, cell: Cell) -> None:
    """Clip the cells below `cell` to it (emptied ones are deleted)."""
    for child in tree.children(cell):
        rest = within(child.geom, cell.geom)
        if rest.area < NOISE_M2:
            tree.delete(child)
            continue
        if not rest.equals(child.geom):
            tree.put(replace(child, geom=rest))
        clip_below(tree, tree.cells[child.key])


def rehome(tree: Tree, child: Cell, parents: list[Cell]) -> None:
    """Re-seat a child of a changed parent: its part in each parent, coded under that parent.

    The part in the parent it had keeps its row and code; parts in other parents
    become new cells with the next free code there; its own children follow.
    """
    grandchildren = tree.children(child)
    results: list[Cell] = []
    for parent in parents:
        part = within(child.geom, parent.geom)
        if part.area < NOISE_M2:
            continue
        if parent.code == child.parent_code and not any(r.key == child.key for r in results):
            kept = replace(child, geom=part)
            tree.put(kept)
            results.append(kept)
        else:
            code = tree.next_code(parent.code, child.level)
            results.append(tree.create(code=code, level=child.level, parent=parent.code, geom=part))
    if not any(r.key == child.key for r in results):
        _drop_row(tree, child)
    for gc in grandchildren:
        if gc.key in tree.cells:
            rehome(tree, gc, results)


def _drop_row(tree: Tree, cell: Cell) -> None:
    """Remove one row only (its children are re-seated by the caller)."""
    if cell.key not in tree.before:
        tree.before[cell.key] = tree.cells.get(cell.key)
    tree.cells.pop(cell.key, None)


def overlapping(cells: Iterable[Cell], geom: BaseGeometry, pad: float = 0.0) -> list[Cell]:
    """The cells whose box meets `geom`'s box grown by `pad` (a cheap first filter)."""
    listed = list(cells)
    if not listed:
        return []
    boxes = shapely.bounds(np.asarray([c.geom for c in listed], dtype=object))
    minx, miny, maxx, maxy = geom.bounds
    hit = (
        (boxes[:, 0] <= maxx + pad)
        & (boxes[:, 2] >= minx - pad)
        & (boxes[:, 1] <= maxy + pad)
        & (boxes[:, 3] >= miny - pad)
    )
    return [c for c, h in zip(listed, hit, strict=True) if h]


def group_by_level(cells: Iterable[Cell]) -> dict[int, list[Cell]]:
    """Cells per level."""
    out: dict[int, list[Cell]] = defaultdict(list)
    for c in cells:
        out[c.level].append(c)
    return out
