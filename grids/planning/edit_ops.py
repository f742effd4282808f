"""The editor's edits on a draft tree (metres): move units, split, merge, reshape, new, delete.

Each function changes `grids.planning.edit_tree.Tree` in place (the tree records
what each changed cell was) or raises a 4xx error before changing anything, so a
refused edit writes nothing.  Boundaries are rebuilt from unions on a millimetre
grid with the units' outlines snapped to the cells' vertices and leftover slivers
(narrower than a metre) handed to the receiving cell: no hairline gaps or overlaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from grids.grid.cell_codes import code_problem
from grids.planning.edit_tree import (
    NOISE_M2,
    SNAP_M,
    Cell,
    Tree,
    absorb,
    best_child,
    clip_below,
    minus,
    overlapping,
    plus,
    polygonal,
    rehome,
    slivers,
    snapped,
    within,
)
from layers.core.errors import ConflictError, InvalidInputError, UnprocessableError

OUTSIDE_M2 = 1.0
"""A reshape or new cell may stick out of its parent by float noise, not by a square metre."""


@dataclass(frozen=True)
class CellState:
    """A cell's full state (for undo: restore what an edit changed), geometry in metres."""

    code: str
    level: int
    parent_code: str | None
    name: str | None
    geom: BaseGeometry


def move_region(tree: Tree, target: Cell, region: BaseGeometry, keep: Cell | None = None) -> None:
    """Move `region` into `target`: every other cell at every level loses it.

    The receivers are the target, its ancestors and (below it) the child sharing
    the longest edge at each level, unless `keep` (a moved level-below cell) is
    re-seated under the target itself.  Slivers left in a losing level-1 cell join
    the region.
    """
    community = tree.communities.get((target.parent_code or "")[:12] or target.code[:12])
    if community is not None:
        region = within(region, community)
    if region.area < NOISE_M2:
        raise UnprocessableError(
            "the units lie outside the target cell's community", code="units_outside_parent"
        )
    near = [
        c
        for c in overlapping(tree.cells.values(), region, SNAP_M)
        if c.geom.dwithin(region, SNAP_M)
    ]
    region = snapped(region, near)
    receivers = tree.chain(target)
    if keep is None:
        child = best_child(tree, target, region)
        while child is not None:
            receivers.append(child)
            child = best_child(tree, child, region)
    taking = {c.key for c in receivers} | ({keep.key} if keep else set())
    for cell in [c for c in near if c.level == 1 and c.key not in taking]:
        _, thin = slivers(minus(cell.geom, region))
        region = plus(region, thin) if not thin.is_empty else region
    for level in (1, 2, 3):
        for cell in overlapping(tree.at_level(level), region):
            if cell.key in taking or cell.key not in tree.cells:
                continue
            if within(cell.geom, region).area < NOISE_M2:
                continue
            rest = minus(cell.geom, region)
            if rest.area < NOISE_M2:
                tree.delete(cell)
            else:
                tree.put(replace(cell, geom=rest))
    for cell in receivers:
        now = tree.cells[cell.key]
        if minus(region, now.geom).area >= NOISE_M2:
            tree.put(replace(now, geom=plus(now.geom, region)))
    if keep is not None and keep.key in tree.cells:
        rehome(tree, tree.cells[keep.key], [tree.cells[target.key]])


def split_cell(tree: Tree, cell: Cell, line: BaseGeometry) -> list[str]:
    """Split a cell by a line; the largest piece keeps the code, the others get new ones."""
    pieces = [p for p in shapely.get_parts(split(cell.geom, line)) if p.area >= NOISE_M2]
    wide = [p for p in pieces if not slivers(polygonal(p))[0].is_empty]
    if len(wide) < 2:
        raise UnprocessableError(
            f"the line does not cut {cell.code} in two (it must cross the cell from edge to edge)",
            code="split_line_misses",
            cell=cell.code,
        )
    wide.sort(key=lambda p: -p.area)
    thin = [p for p in pieces if all(p is not w for w in wide)]
    kept = replace(cell, geom=plus(wide[0], *thin) if thin else polygonal(wide[0]))
    old_children = tree.children(cell)
    tree.put(kept)
    parents = [kept]
    for piece in wide[1:]:
        code = tree.next_code(cell.parent_code or cell.code[:12], cell.level)
        parents.append(
            tree.create(code=code, level=cell.level, parent=cell.parent_code, geom=polygonal(piece))
        )
    for child in old_children:
        rehome(tree, child, parents)
    return [p.code for p in parents]


def merge_cells(tree: Tree, keep: Cell, other: Cell) -> None:
    """Merge `other` into `keep` (siblings only); `other`'s children are recoded under `keep`."""
    if keep.key == other.key:
        raise InvalidInputError("a cell cannot merge with itself", code="merge_same_cell")
    if keep.level != other.level or keep.parent_code != other.parent_code:
        raise UnprocessableError(
            f"{keep.code} and {other.code} are not siblings (same level and parent)",
            code="merge_not_siblings",
        )
    merged = replace(keep, geom=plus(keep.geom, other.geom))
    tree.put(merged)
    for child in tree.children(other):
        rehome(tree, child, [merged])
    if other.key not in tree.before:
        tree.before[other.key] = other
    tree.cells.pop(other.key, None)


def check_inside_parent(tree: Tree, cell: Cell, geom: BaseGeometry) -> None:
    """Refuse (422 `outside_parent`) a shape that leaves its parent by more than noise."""
    parent = tree.parent_geom(cell)
    if parent is None:
        raise UnprocessableError(
            f"the parent {cell.parent_code} of {cell.code} is not in this draft",
            code="unknown_parent",
        )
    out = minus(geom, parent)
    if out.area >= OUTSIDE_M2 and not slivers(out)[0].is_empty:
        raise UnprocessableError(
            f"the new shape leaves its parent {cell.parent_code} by {out.area:.0f} m²",
            code="outside_parent",
            cell=cell.code,
            area_m2=round(out.area, 1),
        )


def reshape_cell(tree: Tree, cell: Cell, geom: BaseGeometry) -> None:
    """Replace a cell's shape (snapped to its neighbours' vertices); its children follow it."""
    siblings = [c for c in tree.at_level(cell.level) if c.key != cell.key]
    geom = snapped(polygonal(geom), [c for c in siblings if c.geom.dwithin(geom, SNAP_M)])
    check_inside_parent(tree, cell, geom)
    gain = minus(geom, cell.geom)
    tree.put(replace(cell, geom=geom))
    clip_below(tree, tree.cells[cell.key])
    child = best_child(tree, tree.cells[cell.key], gain) if not gain.is_empty else None
    if child is not None:
        absorb(tree, child, gain)


def new_cell(
    tree: Tree, *, level: int, parent_code: str, geom: BaseGeometry, code: str | None, carve: bool
) -> Cell:
    """A new cell under a parent, coded by the caller or the next free code; `carve` takes
    its area from the siblings.  Levels below get one child covering it, as the draft has."""
    if level == 1 and parent_code not in tree.communities:
        raise UnprocessableError(
            f"{parent_code} is not a community of this draft", code="unknown_parent"
        )
    if level > 1:
        tree.by_code(parent_code)
    if code is None:
        code = tree.next_code(parent_code, level)
    else:
        reason = code_problem(code, level, parent_code, set(tree.communities))
        if reason:
            raise UnprocessableError(reason, code="bad_code", cell=code)
        if any(c.code == code for c in tree.cells.values()):
            raise ConflictError(
                f"the draft already has a cell {code}", code="code_taken", cell=code
            )
    probe = Cell(0, code, level, parent_code, None, geom)
    check_inside_parent(tree, probe, geom)
    cell = tree.create(code=code, level=level, parent=parent_code, geom=polygonal(geom))
    if carve:
        move_region(tree, cell, cell.geom)
    below, parent = cell, cell
    while below.level < 3 and tree.at_level(below.level + 1):
        child_code = tree.next_code(parent.code, below.level + 1)
        below = tree.create(
            code=child_code,
            level=below.level + 1,
            parent=parent.code,
            geom=tree.cells[cell.key].geom,
        )
        parent = below
    return tree.cells[cell.key]


def restore(tree: Tree, states: Sequence[CellState], remove: Sequence[str]) -> None:
    """Put cells back as they were (undo/redo): `states` by code, `remove` codes dropped."""
    for code in remove:
        for cell in [c for c in tree.cells.values() if c.code == code]:
            if cell.key not in tree.before:
                tree.before[cell.key] = cell
            tree.cells.pop(cell.key, None)
    for state in states:
        same = [c for c in tree.cells.values() if c.code == state.code]
        if len(same) > 1:
            raise ConflictError(f"the draft holds {state.code} twice", code="duplicate_code")
        if same:
            tree.put(
                replace(
                    same[0],
                    level=state.level,
                    parent_code=state.parent_code,
                    name=state.name,
                    geom=state.geom,
                )
            )
        else:
            made = tree.create(
                code=state.code, level=state.level, parent=state.parent_code, geom=state.geom
            )
            tree.put(replace(made, name=state.name))
