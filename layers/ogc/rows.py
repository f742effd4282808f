"""Turn incoming features into rows ready to write, or a list of every problem per row.

The same preparation serves the API (one feature) and file imports (thousands):
field rules and geometry shape per row, then the database checks in bulk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from layers.ogc.checks import locate, reference_problems, taken_codes
from layers.ogc.registry import Collection
from layers.ogc.validate import Problem, check_geometry, check_properties

_EXTRA_TYPES = {"entrances": "MultiPoint"}
PROGRESS_EVERY = 5_000


@dataclass
class RowInput:
    """One incoming feature: its position in the input, properties and WGS-84 geometries."""

    number: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None
    extra: dict[str, BaseGeometry | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    """Rows ready to write (column → value, geometries as WKB) and problems by row number."""

    rows: list[dict[str, Any]]
    problems: dict[int, list[Problem]]

    @property
    def ok(self) -> bool:
        """True when no row has a problem."""
        return not self.problems


def _one(collection: Collection, row: RowInput, partial: bool) -> tuple[dict[str, Any], list]:
    values, problems = check_properties(collection, row.properties, partial=partial)
    problems = [*row.problems, *problems]
    geom, geom_problems = check_geometry(row.geometry, collection.geometry_type)
    problems += geom_problems
    values["geom"] = geom
    for name in collection.extra_geometries:
        extra = row.extra.get(name)
        if extra is None:
            values[name] = None
            continue
        fixed, extra_problems = check_geometry(extra, _EXTRA_TYPES.get(name, "Geometry"), name)
        problems += extra_problems
        values[name] = fixed
    return values, problems


def prepare_rows(
    session: Any,
    collection: Collection,
    inputs: Sequence[RowInput],
    *,
    check_codes_against_db: bool = True,
    own_ids: dict[int, int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Prepared:
    """Validate every row; `own_ids` maps row numbers to the ids they replace."""
    rows: list[dict[str, Any]] = []
    problems: dict[int, list[Problem]] = {}
    for i, row in enumerate(inputs, start=1):
        values, found = _one(collection, row, partial=False)
        rows.append(values)
        if found:
            problems[row.number] = found
        if progress is not None and (i % PROGRESS_EVERY == 0 or i == len(inputs)):
            progress(f"checked {i:,}/{len(inputs):,} rows")
    _spatial(session, inputs, rows, problems)
    for row, bad in zip(inputs, reference_problems(session, rows), strict=True):
        for column in sorted(bad):
            problems.setdefault(row.number, []).append(Problem(column, "refers to no such row"))
    _codes(session, collection, inputs, rows, problems, check_codes_against_db, own_ids or {})
    for values in rows:
        for name in ("geom", *collection.extra_geometries):
            if values.get(name) is not None:
                values[name] = shapely.to_wkb(values[name])
    return Prepared(rows, problems)


def _spatial(
    session: Any,
    inputs: Sequence[RowInput],
    rows: list[dict[str, Any]],
    problems: dict[int, list[Problem]],
) -> None:
    todo = [i for i, r in enumerate(rows) if r["geom"] is not None]
    for i, (inside, community) in zip(
        todo, locate(session, [rows[i]["geom"] for i in todo]), strict=True
    ):
        if not inside:
            problems.setdefault(inputs[i].number, []).append(
                Problem("geometry", "is not inside the district")
            )
        elif rows[i].get("community_id") is None:
            rows[i]["community_id"] = community


def _codes(
    session: Any,
    collection: Collection,
    inputs: Sequence[RowInput],
    rows: list[dict[str, Any]],
    problems: dict[int, list[Problem]],
    against_db: bool,
    own_ids: dict[int, int],
) -> None:
    name = collection.code_field
    if name is None:
        return
    counts = Counter(code for r in rows if (code := r.get(name)))
    taken = (
        taken_codes(session, collection, set(counts), set(own_ids.values())) if against_db else {}
    )
    for row, values in zip(inputs, rows, strict=True):
        code = values.get(name)
        if not code:
            continue
        if counts[code] > 1:
            problems.setdefault(row.number, []).append(Problem(name, f"{code!r} appears twice"))
        if code in taken:
            problems.setdefault(row.number, []).append(
                Problem(name, f"{code!r} is already used by feature {taken[code]}", conflict=True)
            )
