"""The draft tree an edit left behind, kept in memory for the next edit of the same draft.

Loading a street draft (thousands of cells) from WKB and projecting it to metres is
most of an edit's time; the next edit of that draft usually comes from the same
planner a few seconds later.  A tree is reused only when the draft's `version`
and `updated_at` (the time of the transaction that wrote it) are exactly those of
the edit that left it, so any other writer (another process, a PUT, a suggestion)
makes it a miss.  Cached metric geometries are the ones the edit computed (not
re-read from storage): they differ from the stored ones by reprojection noise only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

from grids.planning.edit_store import StoredCell, Written
from grids.planning.edit_tree import Tree

SIZE = 8
"""Drafts kept per process (a few planners at a time)."""


@dataclass(frozen=True)
class Entry:
    """One draft's tree and stored rows at one version."""

    version: int
    updated_at: datetime | None
    tree: Tree
    stored: dict[int, StoredCell]


_ENTRIES: OrderedDict[tuple[str, int], Entry] = OrderedDict()
_LOCK = threading.Lock()
"""The server's threads share the cache (edits of one draft are serialised by its row lock)."""


def cached(key: tuple[str, int], version: int, updated_at: datetime | None):
    """A fresh copy of the tree and rows for this draft version, or None."""
    with _LOCK:
        entry = _ENTRIES.get(key)
        if entry is None or entry.version != version or entry.updated_at != updated_at:
            return None
        _ENTRIES.move_to_end(key)
    tree = Tree(
        cells=dict(entry.tree.cells),
        communities=entry.tree.communities,
        outline=entry.tree.outline,
    )
    return tree, dict(entry.stored)


def keep(
    key: tuple[str, int],
    *,
    version: int,
    updated_at: datetime | None,
    tree: Tree,
    stored: dict[int, StoredCell],
    written: Written,
    counts: dict[int, tuple[int, int]],
) -> None:
    """Remember the tree after an edit: rows renumbered to their ids, the stored rows updated."""
    cells = dict(tree.cells)  # unchanged cells are shared, not copied (thousands per draft)
    rows = dict(stored)
    for key_, row in written.keys.items():
        cell = tree.cells.get(key_)
        if cell is None:
            continue
        if row != key_:
            cells.pop(key_, None)
            cells[row] = replace(cell, key=row)
        if row in written.wgs:
            hh, pop = counts.get(row, (0, 0))
            rows[row] = StoredCell(
                cell.code, cell.level, cell.parent_code, cell.name, hh, pop, written.wgs[row]
            )
    for gone in [k for k in rows if k not in cells]:
        del rows[gone]
    _ENTRIES[key] = Entry(
        version,
        updated_at,
        Tree(cells=cells, communities=tree.communities, outline=tree.outline),
        rows,
    )
    _ENTRIES.move_to_end(key)
    while len(_ENTRIES) > SIZE:
        _ENTRIES.popitem(last=False)
