"""The editor's requests as edits: parse geometry, look up units, refuse what cannot apply.

Each builder checks its input (GeoJSON in EPSG:4326, units inside the draft's
scope) and answers an `edits.Edit`: a function of the tree that changes it and
says, for the audit, what it did (which units moved from which cell to which).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.planning.drafts import scope_community_ids
from grids.planning.edit_ops import (
    CellState,
    merge_cells,
    move_region,
    new_cell,
    reshape_cell,
    restore,
    split_cell,
)
from grids.planning.edit_tree import Tree, minus, plus
from grids.planning.edits import Edit
from grids.planning.validation import geoms_to_metric
from layers.core.errors import InvalidInputError, NotFoundError, UnprocessableError
from layers.core.geojson_input import GeometryInputError, lonlat_problem, read_geojson_geometry
from layers.tables.grid_cells import GridRevision

UNIT_KINDS = ("courtyard", "building", "cell")
_UNIT_SQL = {
    kind: f"SELECT id, community_id, ST_AsBinary(geom) AS wkb FROM {table} WHERE id = ANY(:ids)"  # noqa: S608 - a constant table name
    for kind, table in (("courtyard", "courtyards"), ("building", "buildings"))
}


def read_geometry(value: Any, *, kinds: Sequence[str], srid: int) -> BaseGeometry:
    """A GeoJSON geometry in EPSG:4326 as metres; 400 when malformed, 422 when invalid."""
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise InvalidInputError(f"the geometry must be a {' or '.join(kinds)}", code="bad_geometry")
    try:
        geom = read_geojson_geometry(value)
    except GeometryInputError as exc:
        raise InvalidInputError(
            f"not a valid GeoJSON geometry: {exc}", code="bad_geometry"
        ) from None
    problem = lonlat_problem(geom)
    if geom.is_empty or problem:
        raise InvalidInputError(
            f"coordinates must be longitude/latitude degrees ({problem or 'empty'})",
            code="bad_geometry",
        )
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        raise UnprocessableError(
            f"the shape is not valid: {reason}", code="invalid_geometry", reason=reason
        )
    return geoms_to_metric([geom], srid)[0]


def _units_region(
    session: Session, revision: GridRevision, tree: Tree, kind: str, ids: Sequence[Any], srid: int
) -> tuple[BaseGeometry, list[tuple[str, BaseGeometry]]]:
    """The union of the units (metres) and each unit's (id, geometry); refusals are 4xx."""
    if kind == "cell":
        cells = [tree.by_code(str(code)) for code in ids]
        return plus(*[c.geom for c in cells]), [(c.code, c.geom) for c in cells]
    rows = session.execute(text(_UNIT_SQL[kind]), {"ids": [int(i) for i in ids]}).all()
    missing = sorted({int(i) for i in ids} - {r.id for r in rows})
    if missing:
        raise NotFoundError(f"no {kind} {missing[0]}", code="unit_not_found", missing=missing)
    scope = set(
        scope_community_ids(session=session, scope=revision.scope, code=revision.scope_code or "")
    )
    outside = sorted(r.id for r in rows if r.community_id not in scope)
    if outside:
        raise UnprocessableError(
            f"{kind} {outside[0]} lies outside the draft's {revision.scope}",
            code="units_outside_scope",
            units=outside,
        )
    geoms = geoms_to_metric(shapely.from_wkb([bytes(r.wkb) for r in rows]), srid)
    return plus(*geoms), [(str(r.id), g) for r, g in zip(rows, geoms, strict=True)]


def move_edit(
    session: Session,
    revision: GridRevision,
    *,
    target: str,
    kind: str,
    ids: Sequence[Any],
    srid: int,
) -> Edit:
    """Move units into `target`; the audit names each unit's cell before (at the target's level)."""
    if kind not in UNIT_KINDS:
        raise InvalidInputError(
            f"unit kind must be one of {', '.join(UNIT_KINDS)}", code="bad_unit_kind"
        )
    if not ids:
        raise InvalidInputError("name at least one unit", code="no_units")

    def edit(tree: Tree) -> dict[str, Any]:
        cell = tree.by_code(target)
        region, units = _units_region(session, revision, tree, kind, ids, srid)
        came: dict[str, list[str]] = defaultdict(list)
        peers = tree.at_level(cell.level)
        for uid, geom in units:
            inner = geom.point_on_surface()
            home = next((p.code for p in peers if p.geom.covers(inner)), None)
            came[home or "none"].append(uid)
        keep = None
        if kind == "cell" and len(units) == 1:
            unit = tree.by_code(units[0][0])
            keep = unit if unit.level == cell.level + 1 else None
        move_region(tree, cell, region, keep=keep)
        return {"target": target, "kind": kind, "units": [u for u, _ in units], "from": dict(came)}

    return edit


def split_edit(*, code: str, line: Any, srid: int) -> Edit:
    """Split `code` by a line."""
    geom = read_geometry(line, kinds=("LineString",), srid=srid)

    def edit(tree: Tree) -> dict[str, Any]:
        codes = split_cell(tree, tree.by_code(code), geom)
        return {"cell": code, "pieces": codes}

    return edit


def merge_edit(*, keep: str, other: str) -> Edit:
    """Merge `other` into `keep`."""

    def edit(tree: Tree) -> dict[str, Any]:
        merge_cells(tree, tree.by_code(keep), tree.by_code(other))
        return {"cell": keep, "merged": other}

    return edit


def reshape_edit(*, code: str, geometry: Any, srid: int) -> Edit:
    """Give `code` a new shape."""
    geom = read_geometry(geometry, kinds=("Polygon", "MultiPolygon"), srid=srid)

    def edit(tree: Tree) -> dict[str, Any]:
        cell = tree.by_code(code)
        grown, shrunk = minus(geom, cell.geom).area, minus(cell.geom, geom).area
        reshape_cell(tree, cell, geom)
        return {"cell": code, "gained_m2": round(grown, 1), "lost_m2": round(shrunk, 1)}

    return edit


def new_cell_edit(
    *, level: int, parent_code: str, geometry: Any, code: str | None, carve: bool, srid: int
) -> Edit:
    """A new cell under `parent_code` (code proposed when none is given)."""
    geom = read_geometry(geometry, kinds=("Polygon", "MultiPolygon"), srid=srid)

    def edit(tree: Tree) -> dict[str, Any]:
        cell = new_cell(
            tree, level=level, parent_code=parent_code, geom=geom, code=code, carve=carve
        )
        return {"cell": cell.code, "parent": parent_code, "carved": carve}

    return edit


def delete_edit(*, code: str) -> Edit:
    """Remove `code` and every cell below it."""

    def edit(tree: Tree) -> dict[str, Any]:
        tree.delete(tree.by_code(code))
        return {"cell": code}

    return edit


def restore_edit(*, features: Sequence[Any], remove: Sequence[str], srid: int) -> Edit:
    """Put cells back as the client saw them (undo/redo)."""
    states = []
    for f in features:
        if not isinstance(f, dict) or not isinstance(f.get("properties"), dict):
            raise InvalidInputError("each cell must be a GeoJSON Feature", code="bad_feature")
        p = f["properties"]
        if not isinstance(p.get("code"), str) or not isinstance(p.get("level"), int):
            raise InvalidInputError("each cell needs a code and a level", code="bad_feature")
        try:
            geom = read_geojson_geometry(f.get("geometry"))
        except GeometryInputError as exc:
            raise InvalidInputError(f"cell {p['code']}: {exc}", code="bad_feature") from None
        if lonlat_problem(geom):
            raise InvalidInputError(f"cell {p['code']}: not lon/lat degrees", code="bad_feature")
        states.append(
            CellState(
                p["code"],
                p["level"],
                p.get("parent_code"),
                p.get("name"),
                geoms_to_metric([geom], srid)[0],
            )
        )

    def edit(tree: Tree) -> dict[str, Any]:
        restore(tree, states, remove)
        return {"restored": [s.code for s in states], "removed_codes": list(remove)}

    return edit
