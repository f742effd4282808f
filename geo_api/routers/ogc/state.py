"""Per-process caches of the OGC routes (each server worker keeps its own)."""

from __future__ import annotations

from layers.ogc.query import CountCache
from layers.ogc.service import ExtentCache

COUNTS = CountCache(ttl=10.0)
"""numberMatched per distinct filter; writes in this process invalidate at once."""

EXTENTS = ExtentCache(ttl=60.0)
"""Collection extents for /collections."""


def forget(collection_id: str) -> None:
    """After a write: counts and extents of the collection are stale."""
    COUNTS.forget(collection_id)
    EXTENTS.forget(collection_id)
