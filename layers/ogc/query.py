"""Read feature collections: a page of items, one item, counts and extents.

Paging is keyset (`id > last`) in the default id order, so following `next`
links is stable while rows are added or removed and never gets slower on later
pages; with `sortby` it falls back to offsets.  `numberMatched` is exact but
never costs a `COUNT(*)` per page: a short first page already knows it, and
other counts are cached per distinct filter (`CountCache`, a few seconds),
and capped: above `count_cap` matches it is omitted, which Part 1 allows.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import NotFoundError
from layers.ogc.case_rows import rows_condition
from layers.ogc.cql import Binds
from layers.ogc.crs_uris import CRS84_URI
from layers.ogc.params import Cursor, ItemsQuery
from layers.ogc.registry import Collection
from layers.ogc.sql_parts import feature_text, order_sql, selected_fields, where_sql
from layers.store.db import without_parallel_workers
from layers.store.sql import quote_ident
from layers.tables.case_scope import CaseScope

DEFAULT_COUNT_CAP = 1_000_000


class CountCache:
    """numberMatched per (collection, filter), for `ttl` seconds; writes invalidate."""

    def __init__(self, ttl: float = 10.0, size: int = 512) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[tuple[Any, ...], tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[bool, int | None]:
        """(found, count) — count None means "too many to count"."""
        with self._lock:
            hit = self._items.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def put(self, key: tuple[Any, ...], count: int | None) -> None:
        """Remember a count; the oldest entries go first when full."""
        with self._lock:
            if len(self._items) >= self.size:
                for old in sorted(self._items, key=lambda k: self._items[k][0])[: self.size // 4]:
                    del self._items[old]
            self._items[key] = (time.monotonic(), count)

    def forget(self, collection_id: str) -> None:
        """Drop every count of a collection whose table was written (tables are shared)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == collection_id]:
                del self._items[key]


@dataclass(frozen=True)
class Page:
    """A page of features as GeoJSON text, with what links and counts need."""

    features: str
    returned: int
    matched: int | None
    next_cursor: Cursor | None
    prev_cursor: Cursor | None
    next_offset: int | None
    prev_offset: int | None
    ids: tuple[int, ...] = ()
    """The ids on the page (what a read of personal data is audited with)."""


def _page_sql(
    collection: Collection, q: ItemsQuery, role: str, binds: Binds, scope: CaseScope | None
) -> str:
    """One statement: the page's features as one string, how many rows came, first/last id.

    Keyset pages render the rows they read.  Offset pages (sortby) first pick the ids, so
    the rows skipped by OFFSET are never rendered, then render the page by primary key.
    """
    where = where_sql(collection, q, role, binds, scope)
    keyset = not q.sortby
    reverse = keyset and q.cursor is not None and not q.cursor.forward
    if keyset and q.cursor is not None:
        where += f" AND t.id {'>' if q.cursor.forward else '<'} {binds.add(q.cursor.id)}"
    order = order_sql(collection, q, role, reverse=reverse)
    feature = feature_text(collection, selected_fields(collection, role, q.properties), q.crs)
    table = quote_ident(collection.table)
    more = binds.add(q.limit + 1)
    if keyset:
        page = (
            f"SELECT t.id AS id, {feature} AS f, row_number() OVER (ORDER BY {order}) AS rn "  # noqa: S608
            f"FROM {table} t WHERE {where} ORDER BY {order} LIMIT {more}"
        )
    else:
        page = (
            f"SELECT t.id AS id, {feature} AS f, ids.rn - {binds.add(q.offset)} AS rn "  # noqa: S608
            f"FROM (SELECT t.id, row_number() OVER (ORDER BY {order}) AS rn FROM {table} t "
            f"WHERE {where} ORDER BY {order} LIMIT {more} OFFSET {binds.add(q.offset)}) ids "
            f"JOIN {table} t ON t.id = ids.id"
        )
    limit = binds.add(q.limit)
    first = f"FILTER (WHERE rn <= {limit})"
    return (
        f"WITH page AS ({page}) SELECT count(*) AS n, "  # noqa: S608 - quoted, values bound
        f"string_agg(f, ',' ORDER BY {'id' if reverse else 'rn'}) {first} AS body, "
        f"min(id) {first} AS lo, max(id) {first} AS hi, array_agg(id) {first} AS ids FROM page"
    )


def count_matches(
    *,
    session: Session,
    collection: Collection,
    q: ItemsQuery,
    role: str,
    cache: CountCache | None = None,
    cap: int = DEFAULT_COUNT_CAP,
    scope: CaseScope | None = None,
) -> int | None:
    """How many features match `q` (None above `cap`), from the cache when fresh.

    The cache key holds the WHERE and its values, the reader's case scope included,
    so one grid worker's count is never another's.
    """
    binds = Binds("c")
    where = where_sql(collection, q, role, binds, scope)
    key = (collection.id, where, tuple(sorted((k, repr(v)) for k, v in binds.values.items())))
    if cache is not None:
        found, count = cache.get(key)
        if found:
            return count
    table = quote_ident(collection.table)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} t WHERE {where} LIMIT {int(cap) + 1}) s"  # noqa: S608
    count = int(session.execute(text(sql), binds.values).scalar_one())
    result = None if count > cap else count
    if cache is not None:
        cache.put(key, result)
    return result


def fetch_page(
    *,
    session: Session,
    collection: Collection,
    q: ItemsQuery,
    role: str,
    cache: CountCache | None = None,
    scope: CaseScope | None = None,
) -> Page:
    """One page of items as GeoJSON text, with the positions of the next/previous pages."""
    binds = Binds()
    without_parallel_workers(session)
    row = session.execute(text(_page_sql(collection, q, role, binds, scope)), binds.values).one()
    n, body, lo, hi = int(row.n), row.body or "", row.lo, row.hi
    returned = min(n, q.limit)
    keyset = not q.sortby
    backward = keyset and q.cursor is not None and not q.cursor.forward
    has_more = n > q.limit
    first_page = q.cursor is None and q.offset == 0
    if first_page and not has_more:
        matched: int | None = returned
    else:
        matched = count_matches(
            session=session, collection=collection, q=q, role=role, cache=cache, scope=scope
        )
    next_cursor = prev_cursor = None
    next_offset = prev_offset = None
    if keyset and returned:
        if has_more or backward:
            next_cursor = Cursor(True, hi)
        if q.cursor is not None and (q.cursor.forward or has_more):
            prev_cursor = Cursor(False, lo)
    elif not keyset:
        next_offset = q.offset + q.limit if has_more else None
        prev_offset = max(q.offset - q.limit, 0) if q.offset > 0 else None
    ids = tuple(int(i) for i in row.ids or ())
    return Page(body, returned, matched, next_cursor, prev_cursor, next_offset, prev_offset, ids)


def fetch_item(
    *,
    session: Session,
    collection: Collection,
    item_id: str,
    role: str,
    q: ItemsQuery,
    scope: CaseScope | None = None,
) -> tuple[str, int | None]:
    """One feature as GeoJSON text and its edit version (None if not versioned); 404 if absent.

    A case outside the reader's scope is absent, exactly like one that does not exist.
    """
    if not item_id.isdigit() or len(item_id) > 18:
        raise NotFoundError(f"no feature {item_id!r} in {collection.id}", code="unknown_feature")
    fields = selected_fields(collection, role, q.properties)
    versioned = collection.editable
    version = "t.version" if versioned else "NULL"
    binds = Binds()
    where = f"({collection.where}) AND t.id = {binds.add(int(item_id))}"
    rows = rows_condition(collection, role, scope, binds)
    if rows:
        where += f" AND ({rows})"
    sql = (
        f"SELECT {feature_text(collection, fields, q.crs)} AS f, {version} AS v "  # noqa: S608 - identifiers quoted, values bound
        f"FROM {quote_ident(collection.table)} t WHERE {where}"
    )
    row = session.execute(text(sql), binds.values).one_or_none()
    if row is None:
        raise NotFoundError(f"no feature {item_id!r} in {collection.id}", code="unknown_feature")
    return row.f, row.v


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def collection_extent(*, session: Session, collection: Collection) -> dict[str, Any]:
    """Spatial (CRS84) and temporal extent of the collection's rows."""
    table = quote_ident(collection.table)
    times = "NULL AS t1, NULL AS t2"
    if collection.temporal:
        start = quote_ident(collection.temporal[0])
        times = f"min(t.{start}) AS t1, max(t.{start}) AS t2"
    where = collection.where
    if collection.live_only and collection.temporal and collection.temporal[1]:
        where += f" AND t.{quote_ident(collection.temporal[1])} IS NULL"
    sql = (
        "SELECT ST_XMin(e) AS x1, ST_YMin(e) AS y1, ST_XMax(e) AS x2, ST_YMax(e) AS y2, t1, t2 "  # noqa: S608 - identifiers quoted, values bound
        f"FROM (SELECT ST_Extent(t.geom) AS e, {times} FROM {table} t WHERE {where}) s"
    )
    row = session.execute(text(sql)).one()
    extent: dict[str, Any] = {}
    if row.x1 is not None:
        extent["spatial"] = {
            "bbox": [[round(v, 7) for v in (row.x1, row.y1, row.x2, row.y2)]],
            "crs": CRS84_URI,
        }
    if collection.temporal:
        end = None if collection.temporal[1] else _iso(row.t2)
        extent["temporal"] = {
            "interval": [[_iso(row.t1), end]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return extent
