"""Refuse text PostgreSQL cannot store, once, at the edge: a NUL or an unpaired surrogate.

PostgreSQL's text types cannot hold U+0000, and UTF-8 cannot encode a lone
surrogate (U+D800–U+DFFF, which a JSON `\\ud800` escape produces), so such a
string reaching SQL is a database error, i.e. a 500 — in every input that is
stored or compared.  Instead of a check per field, one app-level dependency
looks at every string a request carries: the path, the query, the headers,
form fields and (when the body hints at such a character) every JSON string,
keys included.  It runs before the route, so nothing is written, and it raises
a `WanggeError`, so each face shapes the 400 its own way (problem+json, OGC
exception JSON).  Binary bodies (files) are left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request

from layers.core.errors import InvalidInputError

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_SUSPECT_JSON = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\x00|\xed[\xa0-\xbf]")
"""A JSON body can only decode to a bad string if its bytes contain one of these."""
_MAX_DEPTH = 200


def bad_text(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not valid Unicode text)"
    return None


def _refuse(where: str, reason: str) -> InvalidInputError:
    where = where.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")
    return InvalidInputError(f"{where} {reason}", code="invalid_characters", parameter=where)


def _check_pairs(kind: str, pairs: Iterable[tuple[str, Any]]) -> None:
    for name, value in pairs:
        for text in (name, value):
            if isinstance(text, str) and (reason := bad_text(text)):
                label = "(a name)" if bad_text(name) else repr(name[:100])
                raise _refuse(f"{kind} {label}", reason)


def _json_strings(node: Any, path: str = "body", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(where, text) for every key and string in a JSON document (bounded depth)."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield f"{path} key", key
            yield from _json_strings(value, f"{path}.{key}", depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _json_strings(value, f"{path}[{i}]", depth + 1)


async def _check_body(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in _FORMS:
        try:
            form = await request.form()
        except Exception:  # malformed: the route's own parsing answers it
            return
        _check_pairs("form field", ((k, v) for k, v in form.multi_items() if isinstance(v, str)))
    elif media == "application/json" or media.endswith("+json"):
        body = await request.body()
        if not _SUSPECT_JSON.search(body):
            return
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):  # not JSON: the route answers that
            return
        for where, text in _json_strings(doc):
            if reason := bad_text(text):
                raise _refuse(where[:200], reason)


async def refuse_unstorable_text(request: Request) -> None:
    """400 `invalid_characters` when any string of the request cannot be stored as text."""
    if reason := bad_text(request.scope["path"]):
        raise _refuse("the path", reason)
    _check_pairs("query parameter", request.query_params.multi_items())
    for name, value in request.headers.raw:
        if b"\x00" in value:
            raise _refuse(f"header {name.decode('latin-1')!r}", "contains a NUL character")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await _check_body(request)
