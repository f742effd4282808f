"""The queryables of a collection as JSON Schema (Part 3), also the schema of its features."""

from __future__ import annotations

from typing import Any

from layers.ogc.registry import Collection, Field, get_collection

_GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
    "MultiPoint": "geometry-multipoint",
}


def field_schema(field: Field) -> dict[str, Any]:
    """JSON Schema of one property."""
    schema: dict[str, Any] = {"title": field.title or field.name}
    if field.type == "datetime":
        schema.update(type="string", format="date-time")
    else:
        schema["type"] = field.type
    if field.enum:
        schema["enum"] = list(field.enum)
    if field.max_length:
        schema["maxLength"] = field.max_length
    if field.pattern:
        schema["pattern"] = field.pattern
    if field.minimum is not None:
        key = "exclusiveMinimum" if field.exclusive_minimum else "minimum"
        schema[key] = field.minimum
    if field.maximum is not None:
        key = "exclusiveMaximum" if field.exclusive_maximum else "maximum"
        schema[key] = field.maximum
    if not field.writable:
        schema["readOnly"] = True
    return schema


def geometry_schema(collection: Collection) -> dict[str, Any]:
    """The geometry property as a queryable."""
    return {
        "title": "geometry",
        "format": _GEOMETRY_FORMATS.get(collection.geometry_type, "geometry-any"),
        "x-ogc-role": "primary-geometry",
    }


def queryables_schema(collection_id: str, role: str, href: str) -> dict[str, Any]:
    """The JSON Schema document served at /queryables (404 when the collection is hidden)."""
    collection = get_collection(collection_id, role)
    properties: dict[str, Any] = {
        "geometry": geometry_schema(collection),
        "id": {"title": "feature id", "type": "integer", "x-ogc-role": "id", "readOnly": True},
    }
    for field in collection.visible_fields(role):
        properties[field.name] = field_schema(field)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": href,
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }
