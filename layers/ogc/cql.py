"""CQL2 (text and JSON) filters compiled to SQL with bound parameters only (Part 3).

pygeofilter parses; this module walks its AST and writes SQL in which every
literal is a bind parameter and every property name is a known field quoted by
`layers.store.sql.quote_ident`.  Literals are coerced to the property's type here, so
a mistyped filter is a 400 with a reason rather than a database error.
Supported: AND/OR/NOT, = <> < <= > >=, LIKE, BETWEEN, IN, IS NULL, CASEI,
and S_INTERSECTS/S_WITHIN/S_CONTAINS/S_DISJOINT/S_EQUALS/S_TOUCHES/S_CROSSES/
S_OVERLAPS with geometry literals, BBOX(...) or the geometry property.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from layers.core.constants import WGS84
from layers.core.errors import InvalidInputError
from layers.core.moments import check_moment
from layers.ogc.crs_uris import OutputCrs
from layers.ogc.registry import Collection, Field
from layers.store.sql import quote_ident

GEOMETRY_NAMES = ("geometry", "geom")
MAX_FILTER_CHARS = 20_000
"""Longest filter text: a GDAL `-where` of a few hundred terms fits easily."""
MAX_FILTER_NODES = 1_000
MAX_FILTER_DEPTH = 50
"""Bounds of the parsed filter: operations in all, and nesting once AND/OR chains are flat."""
_COMPARISONS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
_SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryContains: "ST_Contains",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryEquals: "ST_Equals",
    ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps",
}


def filter_error(message: str, code: str = "invalid_filter") -> InvalidInputError:
    """A 400 for a filter that cannot be parsed or applied."""
    return InvalidInputError(f"filter: {message}", code=code, parameter="filter")


def _too_complex(why: str) -> InvalidInputError:
    return filter_error(f"{why}; split the query or use IN (...)", "filter_too_complex")


class Binds:
    """Collects bound values and hands out their placeholders (`:p0`, `:p1`, …)."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        """Bind `value`; returns its placeholder."""
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def _normalise_json(node: Any) -> Any:
    """Rewrite CQL2-JSON forms pygeofilter 0.4 reads wrongly (bbox, 3-argument between)."""
    if isinstance(node, list):
        return [_normalise_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list):
        box = node["bbox"]
        if len(box) == 6:
            box = [box[0], box[1], box[3], box[4]]
        if len(box) != 4:
            raise filter_error("a bbox needs 4 or 6 numbers")
        x1, y1, x2, y2 = box
        ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
        return {"type": "Polygon", "coordinates": [ring]}
    out = {k: _normalise_json(v) for k, v in node.items()}
    if out.get("op") == "between" and isinstance(out.get("args"), list) and len(out["args"]) == 3:
        out["args"] = [out["args"][0], out["args"][1:]]
    return out


def parse_filter(text: str, lang: str) -> ast.Node:
    """Parse CQL2 text or JSON into pygeofilter's AST; a 400 on any syntax error or excess."""
    if len(text) > MAX_FILTER_CHARS:
        raise _too_complex(f"longer than {MAX_FILTER_CHARS:,} characters")
    try:
        if lang == "cql2-json":
            node = parse_json(_normalise_json(json.loads(text)))
        else:
            node = parse_text(text)
    except InvalidInputError:
        raise
    except RecursionError:  # the parsers recurse per nesting level
        raise _too_complex("nested too deeply") from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise filter_error(f"cannot parse {lang}: {first[:200]}") from None
    _check_size(node)
    return node


def _chain(node: ast.Node) -> list[Any]:
    """The operands of a run of the same AND/OR (`a OR b OR c` → [a, b, c]), without recursion."""
    kind, out, todo = type(node), [], [node]
    while todo:
        current = todo.pop()
        if type(current) is kind:
            todo += [current.rhs, current.lhs]
        else:
            out.append(current)
    return out


def _check_size(root: ast.Node) -> None:
    """At most MAX_FILTER_NODES operations, nested at most MAX_FILTER_DEPTH deep (chains flat)."""
    nodes, todo = 0, [(root, 1)]
    while todo:
        node, depth = todo.pop()
        if not isinstance(node, ast.Node) or isinstance(node, ast.Attribute):
            continue
        nodes += 1
        if nodes > MAX_FILTER_NODES:
            raise _too_complex(f"more than {MAX_FILTER_NODES:,} operations")
        if depth > MAX_FILTER_DEPTH:
            raise _too_complex(f"nested deeper than {MAX_FILTER_DEPTH} levels")
        children = _chain(node) if isinstance(node, ast.And | ast.Or) else node.get_sub_nodes()
        todo += [(child, depth + 1) for child in children if isinstance(child, ast.Node)]


class SqlCompiler:
    """Turns one filter AST into a SQL boolean expression over row alias `t`."""

    def __init__(
        self, collection: Collection, role: str, filter_crs: OutputCrs, binds: Binds
    ) -> None:
        self.collection = collection
        self.role = role
        self.crs = filter_crs
        self.binds = binds

    def compile(self, node: ast.Node) -> str:
        """The SQL for a boolean node."""
        if isinstance(node, ast.And | ast.Or):
            op = " AND " if isinstance(node, ast.And) else " OR "
            return f"({op.join(self.compile(n) for n in _chain(node))})"
        if isinstance(node, ast.Not):
            return f"(NOT {self.compile(node.sub_node)})"
        if type(node) in _COMPARISONS:
            return self._comparison(node)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.Between):
            field = self._field_of(node.lhs)
            low, high = self._scalar(node.low, field), self._scalar(node.high, field)
            neg = "NOT " if node.not_ else ""
            return f"({self._scalar(node.lhs, None)} {neg}BETWEEN {low} AND {high})"
        if isinstance(node, ast.In):
            field = self._field_of(node.lhs)
            items = ", ".join(self._scalar(v, field) for v in node.sub_nodes)
            neg = "NOT " if node.not_ else ""
            return f"({self._scalar(node.lhs, None)} {neg}IN ({items}))"
        if isinstance(node, ast.IsNull):
            neg = "NOT " if node.not_ else ""
            return f"({self._scalar(node.lhs, None)} IS {neg}NULL)"
        if type(node) in _SPATIAL:
            lhs, rhs = self._geometry(node.lhs), self._geometry(node.rhs)
            return f"{_SPATIAL[type(node)]}({lhs}, {rhs})"
        if isinstance(node, bool):
            return "TRUE" if node else "FALSE"
        raise filter_error(f"unsupported operation {type(node).__name__}")

    def _field_of(self, node: Any) -> Field | None:
        if isinstance(node, ast.Attribute):
            return self._field(node.name)
        if isinstance(node, ast.Function) and node.arguments:
            return self._field_of(node.arguments[0])
        return None

    def _field(self, name: str) -> Field:
        found = self.collection.field(name, self.role)
        if found is None:
            raise filter_error(f"unknown property {name!r}; see /queryables")
        return found

    def _comparison(self, node: Any) -> str:
        field = self._field_of(node.lhs) or self._field_of(node.rhs)
        lhs, rhs = self._scalar(node.lhs, field), self._scalar(node.rhs, field)
        return f"({lhs} {_COMPARISONS[type(node)]} {rhs})"

    def _like(self, node: ast.Like) -> str:
        if not isinstance(node.pattern, str):
            raise filter_error("LIKE needs a string pattern")
        lhs = self._scalar(node.lhs, None)
        op = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return f"(CAST({lhs} AS text) {op} {self.binds.add(node.pattern)})"

    def _scalar(self, node: Any, field: Field | None) -> str:
        """SQL for a property, a CASEI/lower() call or a literal coerced to `field`'s type."""
        if isinstance(node, ast.Attribute):
            if node.name == "id":
                return "t.id"
            return self._field(node.name).column
        if isinstance(node, ast.Function):
            if node.name.lower() == "lower" and len(node.arguments) == 1:
                return f"lower(CAST({self._scalar(node.arguments[0], field)} AS text))"
            raise filter_error(f"unsupported function {node.name}()")
        if isinstance(node, ast.Node):
            raise filter_error(f"unsupported expression {type(node).__name__}")
        return self.binds.add(coerce_literal(node, field))

    def _geometry(self, node: Any) -> str:
        if isinstance(node, ast.Attribute):
            if node.name in GEOMETRY_NAMES:
                return "t.geom"
            if node.name in self.collection.extra_geometries:
                return f"t.{quote_ident(node.name)}"
            raise filter_error(f"{node.name!r} is not a geometry property")
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            if len(node.arguments) not in (4, 6):
                raise filter_error("BBOX needs 4 or 6 numbers")
            box = list(node.arguments)
            box = box if len(box) == 4 else [box[0], box[1], box[3], box[4]]
            return self._literal_geometry(_box_polygon(box))
        if isinstance(node, values.Geometry | values.Envelope):
            return self._literal_geometry(node.__geo_interface__)
        raise filter_error("spatial operators need a geometry property and a geometry literal")

    def _literal_geometry(self, geojson: dict[str, Any]) -> str:
        placeholder = self.binds.add(json.dumps(geojson))
        geom = f"ST_SetSRID(ST_GeomFromGeoJSON({placeholder}), {self.crs.srid})"
        if self.crs.lat_first:
            geom = f"ST_FlipCoordinates({geom})"
        if self.crs.srid != WGS84:
            geom = f"ST_Transform({geom}, {WGS84})"
        return geom


def _box_polygon(box: list[Any]) -> dict[str, Any]:
    try:
        x1, y1, x2, y2 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise filter_error("BBOX needs numbers") from None
    ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
    return {"type": "Polygon", "coordinates": [ring]}


def coerce_literal(value: Any, field: Field | None) -> Any:
    """The literal as the Python type of `field` (so the database never sees a mismatch)."""
    kind = field.type if field is not None else None
    if isinstance(value, list | dict | values.Geometry | values.Envelope | values.Interval):
        raise filter_error("a geometry, interval or array cannot be compared here")
    try:
        if kind == "integer" and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                return value
            return int(value)
        if kind == "number" and not isinstance(value, bool):
            return float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError
        if kind == "string":
            if isinstance(value, bool | datetime | date):
                raise ValueError
            return str(value)
        if kind == "datetime":
            return _as_datetime(value)
    except (TypeError, ValueError):
        name = field.name if field else "?"
        raise filter_error(f"{value!r} is not a valid {kind} for {name!r}") from None
    return value


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        check_moment(value)  # ValueError: reported as an invalid literal
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return _as_datetime(datetime.fromisoformat(value))
    raise ValueError


def compile_filter(
    text: str, lang: str, collection: Collection, role: str, filter_crs: OutputCrs, binds: Binds
) -> str:
    """Parse and compile one filter; returns SQL using placeholders bound in `binds`."""
    return SqlCompiler(collection, role, filter_crs, binds).compile(parse_filter(text, lang))
