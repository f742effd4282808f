"""The read use cases of the feature API, one function per request kind.

Each takes the reader (`Viewer`: role, name, worker, key) so that collections of
cases show the reader's cases only, and audits the reads that carry reporter data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from layers.ogc.case_rows import audit_personal_read, scope_for
from layers.ogc.file_export import FileFormat, export_to_bytes
from layers.ogc.params import ItemsQuery, bad, parse_items_query
from layers.ogc.query import (
    CountCache,
    Page,
    collection_extent,
    count_matches,
    fetch_item,
    fetch_page,
)
from layers.ogc.registry import Collection, get_collection, visible_collections
from layers.ogc.sql_parts import selected_fields
from layers.tables.case_scope import Viewer


class ExtentCache:
    """Collection extents change rarely; recomputing them per /collections call is waste."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, collection: Collection) -> dict[str, Any]:
        """The extent, recomputed when older than `ttl`."""
        with self._lock:
            hit = self._items.get(collection.id)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        extent = collection_extent(session=session, collection=collection)
        with self._lock:
            self._items[collection.id] = (time.monotonic(), extent)
        return extent

    def forget(self, collection_id: str) -> None:
        """Drop a collection's extent after a write."""
        with self._lock:
            self._items.pop(collection_id, None)


@dataclass(frozen=True)
class ItemsResult:
    """What an items request produced: the collection, the checked query and the page."""

    collection: Collection
    query: ItemsQuery
    page: Page | None
    matched: int | None


def describe_collections(
    *, session: Session, role: str, extents: ExtentCache, collection_id: str | None = None
) -> list[tuple[Collection, dict[str, Any]]]:
    """The collections `role` may see (or the one asked for, 404 if hidden) with extents."""
    if collection_id is not None:
        chosen = [get_collection(collection_id, role)]
    else:
        chosen = list(visible_collections(role))
    return [(c, extents.get(session, c)) for c in chosen]


def read_items(
    *,
    session: Session,
    collection_id: str,
    params: Mapping[str, str],
    role: str,
    counts: CountCache | None = None,
    viewer: Viewer | None = None,
    now: datetime | None = None,
) -> ItemsResult:
    """Check the request and read one page (or only the count for resultType=hits)."""
    collection = get_collection(collection_id, role)
    q = parse_items_query(params, collection, role)
    reader = viewer or Viewer(role)
    scope = scope_for(session=session, collection=collection, viewer=reader)
    if q.hits_only:
        matched = count_matches(
            session=session, collection=collection, q=q, role=role, cache=counts, scope=scope
        )
        return ItemsResult(collection, q, None, matched)
    page = fetch_page(
        session=session, collection=collection, q=q, role=role, cache=counts, scope=scope
    )
    audit_personal_read(
        session=session,
        collection=collection,
        fields=selected_fields(collection, role, q.properties),
        ids=page.ids,
        viewer=reader,
        face="ogc.items",
        now=now,
    )
    return ItemsResult(collection, q, page, page.matched)


@dataclass(frozen=True)
class Download:
    """A file made for a download."""

    content: bytes
    filename: str
    crs_uri: str


def export_items(
    *,
    session: Session,
    collection_id: str,
    params: Mapping[str, str],
    role: str,
    fmt: FileFormat,
    viewer: Viewer | None = None,
    now: datetime | None = None,
) -> Download:
    """Every feature the query selects (up to `limit` when given) as a file in `fmt`."""
    collection = get_collection(collection_id, role)
    q = parse_items_query(params, collection, role)
    limit = q.limit if "limit" in params else None
    reader = viewer or Viewer(role)
    ids: list[int] = []
    content = export_to_bytes(
        session=session,
        collection=collection,
        q=q,
        role=role,
        fmt=fmt,
        limit=limit,
        scope=scope_for(session=session, collection=collection, viewer=reader),
        exported_ids=ids,
    )
    audit_personal_read(
        session=session,
        collection=collection,
        fields=selected_fields(collection, role, q.properties),
        ids=ids,
        viewer=reader,
        face=f"ogc.download.{fmt.suffix.lstrip('.')}",
        now=now,
    )
    return Download(content, f"{collection.id}{fmt.suffix.replace('.shp', '.zip')}", q.crs.uri)


def read_item(
    *,
    session: Session,
    collection_id: str,
    item_id: str,
    params: Mapping[str, str],
    role: str,
    viewer: Viewer | None = None,
    now: datetime | None = None,
) -> tuple[Collection, ItemsQuery, str, int | None]:
    """One feature (GeoJSON text) and its version, in the CRS asked for (404 outside scope)."""
    collection = get_collection(collection_id, role)
    allowed = {k: v for k, v in params.items() if k in ("crs", "properties", "f")}
    unknown = set(params) - set(allowed)
    if unknown:
        raise bad(sorted(unknown)[0], "unknown query parameter", "unknown_parameter")
    q = parse_items_query(allowed, collection, role)
    reader = viewer or Viewer(role)
    feature, version = fetch_item(
        session=session,
        collection=collection,
        item_id=item_id,
        role=role,
        q=q,
        scope=scope_for(session=session, collection=collection, viewer=reader),
    )
    audit_personal_read(
        session=session,
        collection=collection,
        fields=selected_fields(collection, role, q.properties),
        ids=[int(item_id)],
        viewer=reader,
        face="ogc.item",
        now=now,
    )
    return collection, q, feature, version
