"""Open311 GeoReport v2 documents in JSON and XML, as the specification writes them.

Lists become ``<service_requests><request>…</request></service_requests>``-style
XML; errors are the spec's error list (``[{"code", "description"}]`` or
``<errors><error>``).  ElementTree escapes every text, so case descriptions
are shown as given and never interpreted.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, key: str, value: Any) -> None:
    node = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(node, k, v)
    elif isinstance(value, list):
        singular = {
            "attributes": "attribute",
            "values": "value",
            "endpoints": "endpoint",
            "formats": "format",
        }.get(key, "item")
        for item in value:
            _fill(node, singular, item)
    else:
        node.text = _text(value)


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render_list(
    fmt: str, root: str, item: str, items: list[dict[str, Any]], status=200
) -> Response:
    """A list of objects: a JSON array, or `<root><item>…</item></root>`."""
    if fmt == "json":
        return _json(items, status)
    node = ET.Element(root)
    for entry in items:
        child = ET.SubElement(node, item)
        for k, v in entry.items():
            _fill(child, k, v)
    return Response(_xml(node), status_code=status, media_type=FORMATS["xml"])


def render_object(fmt: str, root: str, obj: dict[str, Any]) -> Response:
    """One object: a JSON object, or `<root>…</root>`."""
    if fmt == "json":
        return _json(obj, 200)
    node = ET.Element(root)
    for k, v in obj.items():
        _fill(node, k, v)
    return Response(_xml(node), media_type=FORMATS["xml"])


def render_error(fmt: str, status: int, description: str) -> Response:
    """The spec's error list with one error."""
    if fmt != "xml":
        return _json([{"code": status, "description": description}], status)
    errors = ET.Element("errors")
    error = ET.SubElement(errors, "error")
    ET.SubElement(error, "code").text = str(status)
    ET.SubElement(error, "description").text = description
    return Response(_xml(errors), status_code=status, media_type=FORMATS["xml"])


def _json(body: Any, status: int) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status_code=status, media_type=FORMATS["json"]
    )
