"""SQL fragments shared by feature pages, single items, tiles and exports.

Every fragment reads row alias `t`; values go through `Binds`, identifiers
through `quote_ident`.  Features are rendered to GeoJSON text by PostGIS itself
(`ST_AsGeoJSON`, `json_build_object`) so a page of a thousand polygons is one
string from the database and never a thousand Python dicts.
"""

from __future__ import annotations

from datetime import datetime

from layers.core.constants import WGS84
from layers.core.errors import InvalidInputError
from layers.ogc.case_rows import rows_condition
from layers.ogc.cql import Binds, coerce_literal, compile_filter
from layers.ogc.crs_uris import OutputCrs
from layers.ogc.params import ItemsQuery
from layers.ogc.registry import Collection, Field
from layers.store.sql import quote_ident
from layers.tables.case_scope import CaseScope

_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''


def geometry_out(column: str, crs: OutputCrs) -> str:
    """`column` (stored CRS84) in the output CRS and its axis order."""
    geom = column if crs.srid == WGS84 else f"ST_Transform({column}, {crs.srid})"
    return f"ST_FlipCoordinates({geom})" if crs.lat_first else geom


def geojson_geometry(column: str, crs: OutputCrs) -> str:
    """GeoJSON text of `column` in `crs` (options 0: no `crs` member), 'null' when NULL."""
    return f"COALESCE(ST_AsGeoJSON({geometry_out(column, crs)}, {crs.decimals}, 0), 'null')"


def property_value(field: Field) -> str:
    """A field as JSON-ready SQL; timestamps as RFC 3339 UTC text."""
    if field.type == "datetime":
        return f"to_char({field.column} AT TIME ZONE 'UTC', {_ISO})"
    return field.column


def properties_object(
    collection: Collection, fields: tuple[Field, ...], crs: OutputCrs, with_extra: bool = True
) -> str:
    """`json_build_object(...)` of the selected fields (and extra geometries)."""
    pairs = [f"'{f.name}', {property_value(f)}" for f in fields]
    if with_extra:
        for name in collection.extra_geometries:
            column = f"t.{quote_ident(name)}"
            pairs.append(f"'{name}', CAST({geojson_geometry(column, crs)} AS json)")
    return f"json_build_object({', '.join(pairs)})" if pairs else "'{}'::json"


def feature_text(collection: Collection, fields: tuple[Field, ...], crs: OutputCrs) -> str:
    """One row as GeoJSON Feature text."""
    props = properties_object(collection, fields, crs)
    return (
        '\'{"type":"Feature","id":\' || t.id || \',"geometry":\' || '
        f"{geojson_geometry('t.geom', crs)} || ',\"properties\":' || "
        f"CAST({props} AS text) || '}}'"
    )


def selected_fields(
    collection: Collection, role: str, names: list[str] | None
) -> tuple[Field, ...]:
    """The readable fields, narrowed to `properties=` when given."""
    visible = collection.visible_fields(role)
    if names is None:
        return visible
    wanted = set(names)
    return tuple(f for f in visible if f.name in wanted)


def parse_param_value(value: str, field: Field) -> object:
    """A `?name=value` equality filter value as the field's type."""
    if field.type == "boolean":
        if value.lower() not in ("true", "false"):
            raise InvalidInputError(
                f"{field.name}: expected true or false", code="invalid_parameter"
            )
        return value.lower() == "true"
    try:
        return coerce_literal(value, field)
    except InvalidInputError:
        raise InvalidInputError(
            f"{field.name}: {value!r} is not a valid {field.type}",
            code="invalid_parameter",
            parameter=field.name,
        ) from None


def bbox_sql(q: ItemsQuery, binds: Binds) -> str:
    """ST_Intersects with the bbox (two boxes across the antimeridian), as stored CRS84."""
    assert q.bbox is not None
    minx, miny, maxx, maxy = q.bbox
    crs = q.bbox_crs
    if crs.geographic and minx > maxx:
        boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    else:
        boxes = [(minx, miny, maxx, maxy)]
    parts = []
    for box in boxes:
        args = ", ".join(binds.add(float(v)) for v in box)
        env = f"ST_MakeEnvelope({args}, {crs.srid})"
        if crs.srid != WGS84:
            step = binds.add(max((box[2] - box[0]) / 16.0, 1e-9))
            env = f"ST_Transform(ST_Segmentize({env}, {step}), {WGS84})"
        parts.append(f"ST_Intersects(t.geom, {env})")
    return "(" + " OR ".join(parts) + ")"


def temporal_sql(
    collection: Collection, interval: tuple[datetime | None, datetime | None] | None, binds: Binds
) -> str | None:
    """Rows whose validity (or instant) meets `interval`; the live slice when none is given."""
    if collection.temporal is None:
        return None
    start_col, end_col = (quote_ident(c) if c else None for c in collection.temporal)
    if interval is None:
        return f"t.{end_col} IS NULL" if collection.live_only and end_col else None
    start, end = interval
    parts = []
    if end is not None:
        parts.append(f"t.{start_col} <= {binds.add(end)}")
    if start is not None:
        if end_col:
            parts.append(f"(t.{end_col} IS NULL OR t.{end_col} > {binds.add(start)})")
        else:
            parts.append(f"t.{start_col} >= {binds.add(start)}")
    return " AND ".join(parts) if parts else None


def where_sql(
    collection: Collection,
    q: ItemsQuery,
    role: str,
    binds: Binds,
    scope: CaseScope | None = None,
) -> str:
    """The full WHERE condition for a query (without paging), case rows narrowed to `scope`."""
    parts = [collection.where]
    rows = rows_condition(collection, role, scope, binds)
    if rows:
        parts.append(rows)
    temporal = temporal_sql(collection, q.interval, binds)
    if temporal:
        parts.append(temporal)
    if q.bbox is not None:
        parts.append(bbox_sql(q, binds))
    for name, value in q.equals.items():
        field = collection.field(name, role)
        assert field is not None
        parts.append(f"{field.column} = {binds.add(parse_param_value(value, field))}")
    if q.filter:
        parts.append(compile_filter(q.filter, q.filter_lang, collection, role, q.filter_crs, binds))
    return " AND ".join(f"({p})" for p in parts)


def order_sql(collection: Collection, q: ItemsQuery, role: str, reverse: bool = False) -> str:
    """ORDER BY terms: the requested sort keys, then the id so pages are stable."""
    terms = []
    for name, descending in q.sortby:
        found = None if name == "id" else collection.field(name, role)
        assert name == "id" or found is not None, f"sortby {name!r} was checked against the fields"
        column = found.column if found is not None else "t.id"
        terms.append(f"{column} {'DESC' if descending != reverse else 'ASC'} NULLS LAST")
    terms.append(f"t.id {'DESC' if reverse else 'ASC'}")
    return ", ".join(terms)
