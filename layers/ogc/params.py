"""Parse the query parameters of an items request into one checked `ItemsQuery`.

Parsing lives here, not in the router, because the CLI export takes the same
`--bbox`/`--crs` and must refuse the same bad input with the same reasons.
Every rejection is an `InvalidInputError` with a stable code and the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from layers.core.errors import InvalidInputError
from layers.core.moments import moment_problem
from layers.ogc.crs_uris import CRS84, OutputCrs, parse_crs
from layers.ogc.registry import Collection

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")
"""`cql-text` is the draft name GDAL 3.6 sends; it means CQL2 text here."""
RESERVED = frozenset(
    {
        "f",
        "limit",
        "offset",
        "cursor",
        "bbox",
        "bbox-crs",
        "datetime",
        "crs",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "properties",
        "resultType",
    }
)


def bad(parameter: str, message: str, code: str = "invalid_parameter") -> InvalidInputError:
    """A 400 naming the parameter at fault."""
    return InvalidInputError(f"{parameter}: {message}", code=code, parameter=parameter)


@dataclass(frozen=True)
class Cursor:
    """Keyset position: rows after (`forward`) or before an id, in id order."""

    forward: bool
    id: int

    def token(self) -> str:
        """The `cursor` parameter value that names this position."""
        return f"{'n' if self.forward else 'p'}{self.id}"


@dataclass
class ItemsQuery:
    """Everything an items request asked for, already checked."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: Cursor | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: OutputCrs = CRS84
    interval: tuple[datetime | None, datetime | None] | None = None
    equals: dict[str, str] = field(default_factory=dict)
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: OutputCrs = CRS84
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    properties: list[str] | None = None
    crs: OutputCrs = CRS84
    hits_only: bool = False


def parse_int(value: str, parameter: str, low: int, high: int) -> int:
    """An integer in [low, high] or a 400."""
    try:
        number = int(value)
    except ValueError:
        raise bad(parameter, f"not an integer: {value!r}") from None
    if not low <= number <= high:
        raise bad(parameter, f"must be between {low} and {high}, got {number}")
    return number


def parse_bbox(value: str, bbox_crs: OutputCrs) -> tuple[float, float, float, float]:
    """Four (or six, z ignored) numbers in `bbox_crs` axis order, returned as x/y order."""
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise bad("bbox", f"not a list of numbers: {value!r}", "invalid_bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise bad("bbox", "needs 4 (or 6) finite numbers", "invalid_bbox")
    if bbox_crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    minx, miny, maxx, maxy = numbers
    if miny > maxy:
        raise bad("bbox", "the lower corner is above the upper corner", "invalid_bbox")
    if bbox_crs.geographic:
        if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
            raise bad("bbox", "latitude outside [-90, 90]", "invalid_bbox")
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
            raise bad("bbox", "longitude outside [-180, 180]", "invalid_bbox")
    elif minx > maxx:
        raise bad("bbox", "the west edge is east of the east edge", "invalid_bbox")
    return minx, miny, maxx, maxy


def _instant(text: str) -> tuple[datetime, datetime]:
    """An RFC 3339 date-time (an instant) or a full date (that whole day, UTC)."""
    whole_day = len(text) == 10
    try:
        if whole_day:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise bad("datetime", f"not an RFC 3339 date-time: {text!r}", "invalid_datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if problem := moment_problem(moment):
        raise bad("datetime", f"{text!r} {problem}", "invalid_datetime")
    if whole_day:
        return moment, moment + timedelta(days=1, microseconds=-1)
    return moment, moment


def parse_datetime(value: str) -> tuple[datetime | None, datetime | None]:
    """An instant, or an interval `start/end` with `..` or empty for an open end."""
    if "/" not in value:
        return _instant(value)
    first, _, second = value.partition("/")
    start = None if first in ("", "..") else _instant(first)[0]
    end = None if second in ("", "..") else _instant(second)[1]
    if start is None and end is None:
        raise bad("datetime", "an interval needs at least one end", "invalid_datetime")
    if start is not None and end is not None and start > end:
        raise bad("datetime", "the interval ends before it starts", "invalid_datetime")
    return start, end


def _names(value: str, parameter: str, collection: Collection, role: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    for name in names:
        if collection.field(name.lstrip("+-"), role) is None and name.lstrip("+-") != "id":
            raise bad(parameter, f"unknown property {name.lstrip('+-')!r}", "unknown_property")
    return names


def parse_sortby(value: str, collection: Collection, role: str) -> list[tuple[str, bool]]:
    """`+name,-id` into (name, descending) pairs of readable fields."""
    return [(n.lstrip("+-"), n.startswith("-")) for n in _names(value, "sortby", collection, role)]


def parse_items_query(params: Mapping[str, str], collection: Collection, role: str) -> ItemsQuery:
    """Check every parameter of an items request; unknown parameters are a 400 (Part 1)."""
    q = ItemsQuery()
    for name, value in params.items():
        if name in RESERVED:
            continue
        if collection.field(name, role) is None:
            raise bad(name, "unknown query parameter", "unknown_parameter")
        q.equals[name] = value
    if "limit" in params:
        q.limit = parse_int(params["limit"], "limit", 1, MAX_LIMIT)
    if "offset" in params:
        q.offset = parse_int(params["offset"], "offset", 0, 10**9)
    if params.get("cursor"):
        q.cursor = parse_cursor(params["cursor"])
    q.crs = parse_crs(params.get("crs"), "crs")
    q.bbox_crs = parse_crs(params.get("bbox-crs"), "bbox-crs")
    q.filter_crs = parse_crs(params.get("filter-crs"), "filter-crs")
    if params.get("bbox"):
        q.bbox = parse_bbox(params["bbox"], q.bbox_crs)
    if params.get("datetime"):
        q.interval = parse_datetime(params["datetime"])
    if params.get("filter"):
        q.filter = params["filter"]
        q.filter_lang = params.get("filter-lang") or "cql2-text"
        if q.filter_lang not in FILTER_LANGS:
            raise bad("filter-lang", f"must be one of {', '.join(FILTER_LANGS)}", "invalid_filter")
        if q.filter_lang == "cql-text":
            q.filter_lang = "cql2-text"
    if params.get("sortby"):
        q.sortby = parse_sortby(params["sortby"], collection, role)
    if "properties" in params:
        q.properties = [n for n in _names(params["properties"], "properties", collection, role)]
    result_type = params.get("resultType", "results")
    if result_type not in ("results", "hits"):
        raise bad("resultType", "must be `results` or `hits`")
    q.hits_only = result_type == "hits"
    return q


def parse_cursor(value: str) -> Cursor:
    """`n<id>` (after id) or `p<id>` (before id), as written into next/prev links."""
    if len(value) < 2 or value[0] not in "np" or not value[1:].isdigit():
        raise bad("cursor", "not a cursor from a next/prev link")
    return Cursor(value[0] == "n", int(value[1:]))
