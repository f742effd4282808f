"""What the editor shows after each edit: the touched cells' figures and problems.

Figures per cell: households, population, open cases, workers, households per
worker and its deviation from the draft's target, Polsby-Popper compactness
(4πA/P²) and a multipart flag; for the draft: cells over/under tolerance and the
household coefficient of variation (the measure the suggestions balance).

One rule for the target and the deviation (level-1 cells: workers sit there):
a level-1 cell has ``max(workers, 1)`` worker slots (an unstaffed cell still
needs one worker, the editor's "new cells need workers"), the target is the
draft's level-1 households over its slots (for one worker per cell: the mean
households per cell, which is what the suggestion balances towards), and
``deviation = (households / slots - target) / target``.  The over/under counts
use that deviation with the tolerance; levels 2 and 3 have no workers, so no
deviation (None): the page shows "—" and does not colour them by balance.

Problems are found incrementally: the full `topology.validate` is run only over
the touched cells, their siblings, their parents and their children, and kept
when they concern that neighbourhood.  Publishing still runs the full validation.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from grids.planning.edit_tree import Tree
from grids.planning.regions import balance_figures
from grids.planning.topology import (
    KINDS,
    DraftCell,
    Problem,
    ScopeContext,
    check_codes,
    check_geometry,
    check_group,
)
from grids.planning.validation import ReportedProblem, ValidationOptions, reported_problem
from layers.tables.incidents import OPEN_STATUSES

DEFAULT_TOLERANCE = 0.15
"""A level-1 cell is on target within ±15 % of the target households per worker."""


@dataclass(frozen=True)
class Balance:
    """The target households per worker of a draft, and the tolerance around it."""

    target: float
    tolerance: float


_CELLS = text(
    "WITH d AS MATERIALIZED (SELECT id, code, level, parent_code, name, households, population, "
    "  geom, ST_Transform(geom, :srid) AS m FROM grid_draft_cells "
    "  WHERE revision_id = :r AND (:all OR id IN :ids)), "
    "cases AS (SELECT d.id, count(*) AS n FROM d JOIN incidents i ON i.status IN :open "
    "  AND i.geom && d.geom AND ST_Covers(d.geom, i.geom) GROUP BY d.id), "
    "staff AS (SELECT cell_code, count(*) AS n, min(name) AS worker FROM workers "
    "  WHERE cell_code IN (SELECT code FROM d) GROUP BY cell_code) "
    "SELECT d.id, d.code, d.level, d.parent_code, d.name, d.households, d.population, "
    "ST_AsGeoJSON(d.geom, 9) AS geometry, ST_Area(d.m) AS area, ST_Perimeter(d.m) AS perimeter, "
    "ST_NumGeometries(d.geom) AS parts, coalesce(c.n, 0) AS open_cases, "
    "coalesce(w.n, 0) AS workers, w.worker "
    "FROM d LEFT JOIN cases c ON c.id = d.id LEFT JOIN staff w ON w.cell_code = d.code"
).bindparams(bindparam("ids", expanding=True), bindparam("open", expanding=True))
"""One statement for the cells and their figures: open cases and workers by grouped joins
(not a sub-select per cell), each geometry projected once; GeoJSON stays text.  Sorted
in Python: sorting 22,000 rows with their GeoJSON spilled to disk in PostgreSQL."""


def draft_balance(*, session: Session, revision_id: int, tolerance: float) -> tuple[Balance, dict]:
    """The target (households per level-1 worker over the draft) and the draft's figures."""
    rows = session.execute(
        text(
            "SELECT d.households, (SELECT count(*) FROM workers w WHERE w.cell_code = d.code) AS n "
            "FROM grid_draft_cells d WHERE d.revision_id = :r AND d.level = 1"
        ),
        {"r": revision_id},
    ).all()
    workers = sum(r.n for r in rows)
    total = sum(r.households for r in rows)
    slots = sum(max(r.n, 1) for r in rows)
    target = total / slots if slots else 0.0
    balance = Balance(target=round(target, 2), tolerance=tolerance)
    devs = [deviation(r.households, r.n, balance) for r in rows]
    figures = {
        "cells": len(rows),
        "households": total,
        "workers": workers,
        "target_households_per_worker": balance.target,
        "tolerance": tolerance,
        "over": sum(1 for d in devs if d is not None and d > tolerance),
        "under": sum(1 for d in devs if d is not None and d < -tolerance),
        "household_cv": balance_figures([r.households for r in rows])["cv"],
    }
    return balance, figures


def deviation(households: int, workers: int, balance: Balance) -> float | None:
    """(households per worker slot - target) / target (0 = on target); None without a target."""
    if not balance.target:
        return None
    return round((per_worker(households, workers) - balance.target) / balance.target, 4)


def per_worker(households: int, workers: int) -> float:
    """Households per worker slot: an unstaffed level-1 cell counts as one slot."""
    return households / max(workers, 1)


def cell_features(
    *, session: Session, revision_id: int, ids: Sequence[int] | None, balance: Balance, srid: int
) -> list[dict[str, Any]]:
    """GeoJSON features of the given rows (all when `ids` is None) with their figures."""
    return [
        {"type": "Feature", "id": props["code"], "properties": props, "geometry": json.loads(g)}
        for props, g in _cell_rows(session, revision_id, ids, balance, srid)
    ]


def cell_features_json(
    *, session: Session, revision_id: int, ids: Sequence[int] | None, balance: Balance, srid: int
) -> str:
    """The same features as one JSON array, geometries spliced in as PostGIS wrote them.

    A district draft is some 22,000 cells and 13 MB of GeoJSON: parsing it into
    Python objects and serialising it again was most of the editor's first load.
    """
    parts = [
        f'{{"type":"Feature","id":{json.dumps(props["code"])},'
        f'"properties":{json.dumps(props, separators=(",", ":"))},"geometry":{g}}}'
        for props, g in _cell_rows(session, revision_id, ids, balance, srid)
    ]
    return "[" + ",".join(parts) + "]"


def _cell_rows(session, revision_id, ids, balance, srid) -> list[tuple[dict[str, Any], str]]:
    """(properties, GeoJSON text) per row."""
    params = {
        "r": revision_id,
        "srid": srid,
        "all": ids is None,
        "ids": list(ids or [0]),
        "open": list(OPEN_STATUSES),
    }
    out = []
    rows = sorted(session.execute(_CELLS, params).mappings(), key=lambda r: (r["level"], r["code"]))
    for r in rows:
        level1 = r["level"] == 1
        per = per_worker(r["households"], r["workers"]) if level1 else None
        dev = deviation(r["households"], r["workers"], balance) if level1 else None
        pp = 4 * math.pi * r["area"] / r["perimeter"] ** 2 if r["perimeter"] else 0.0
        props = {k: r[k] for k in ("code", "level", "parent_code", "name", "households")}
        props |= {
            "population": r["population"],
            "open_cases": r["open_cases"],
            "workers": r["workers"],
            "worker": r["worker"],
            "households_per_worker": None if per is None else round(per, 1),
            "deviation": dev,
            "status": _status(dev, balance.tolerance),
            "polsby_popper": round(pp, 3),
            "multipart": r["parts"] > 1,
            "area_m2": round(r["area"], 1),
        }
        out.append((props, r["geometry"]))
    return out


def _status(dev: float | None, tolerance: float) -> str | None:
    if dev is None:
        return None
    return "over" if dev > tolerance else "under" if dev < -tolerance else "on_target"


def incremental_problems(
    tree: Tree, touched: Collection[str], options: ValidationOptions
) -> list[ReportedProblem]:
    """The problems of the touched cells and their neighbours (the kinds of the full check).

    Codes and geometry of the touched cells; orphans and empty parents among them;
    and for each parent group a touched cell belongs to or heads, the group check
    (pieces outside the parent, sibling overlaps, gaps).
    """
    cells = list(tree.cells.values())
    ctx = ScopeContext(
        communities=tree.communities,
        scope=scope_outline(tree),
        tolerance_m=options.tolerance_m,
        min_area_m2=options.min_area_m2,
    )
    mine = [_draft(c) for c in cells if c.code in touched]
    groups = {_parent(c) for c in mine} | {c.code for c in mine}
    groups |= {t for t in touched if t in tree.communities}
    kids: dict[str, list[DraftCell]] = defaultdict(list)
    for c in cells:
        if _parent(c) in groups:
            kids[_parent(c)].append(_draft(c))
    problems = check_codes(
        mine + [k for g in groups for k in kids[g] if k.code not in touched], ctx
    )
    problems = [p for p in problems if set(p.cells) & set(touched)]
    raw = [DraftCell(c.code, c.level, c.parent_code, c.geom) for c in cells if c.code in touched]
    problems += check_geometry(raw, ctx)
    deepest = max((c.level for c in cells), default=1)
    parents = {c.code: _draft(c).geom for c in cells if c.code in groups}
    parents |= {k: g for k, g in tree.communities.items() if k in groups}
    for cell in mine:
        if _parent(cell) not in parents:
            detail = f"parent {_parent(cell)} is not in this draft"
            problems.append(Problem("orphan", (cell.code,), cell.geom, cell.geom.area, detail))
        elif cell.level < deepest and not kids.get(cell.code):
            detail = f"level-{cell.level} cell {cell.code} has no level-{cell.level + 1} cells"
            problems.append(
                Problem("empty_parent", (cell.code,), cell.geom, cell.geom.area, detail)
            )
    for code in sorted(groups):
        if code in parents and kids.get(code):
            problems += check_group(code, parents[code], kids[code], ctx)
    order = {k: i for i, k in enumerate(KINDS)}
    problems.sort(key=lambda p: (order[p.kind], p.cells, p.detail))
    return [reported_problem(p, options.metric_srid) for p in problems]


def scope_outline(tree: Tree):
    """The scope's outline (union of its communities), computed once per cached tree."""
    if tree.outline is None:
        tree.outline = shapely.union_all(list(tree.communities.values()))
    return tree.outline


def _parent(cell) -> str:
    return (cell.parent_code or cell.code[:12]) if cell.level == 1 else (cell.parent_code or "")


def _draft(cell) -> DraftCell:
    geom = cell.geom if cell.geom.is_valid else shapely.make_valid(cell.geom)
    return DraftCell(cell.code, cell.level, cell.parent_code, geom)
