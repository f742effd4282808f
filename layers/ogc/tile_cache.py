"""Rendered vector tiles kept in memory, checked against where their layer changed since.

Why: a web map asks for the same tiles again and again (every visitor of the
resident map, every pan back), and ST_AsMVT over a street's buildings costs
milliseconds where looking up one counter costs a tenth of one.  A cached tile
is used while its table's `layer_versions` counter (bumped by a trigger on
every write: OGC edits, imports, a grid publish) is what it was when the tile
was made, so an edit or a publish is seen by the next tile request of every
server process.  When the counter has moved, the tile is not thrown away at
once: the same triggers record where each version changed (`layer_changes`),
and a tile no change since has touched is re-stamped to the new version
instead of rendered again (`layers.ogc.tile_changes`) — one moved cell boundary
re-renders the few tiles over it, not the district.  Cases are never cached:
their tiles are per reader and intake changes them all the time.

Each entry also keeps the tile gzipped (made on the first request that accepts
gzip), so a warm tile costs one counter query and no compression: the
anonymous fast path (`geo_api.middleware.cached_tiles`) sends those bytes as
they are.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from layers.ogc.registry import Collection, get_collection
from layers.ogc.tile_changes import layer_version, still_current
from layers.ogc.tiles import Tile

__all__ = ["Cached", "TileCache", "layer_version", "still_current", "table_of"]

GZIP_LEVEL = 6
"""As `geo_api.middleware.compression`: the same bytes whichever path sends the tile."""

Key = tuple[str, tuple[str, ...], int, int, int]


def table_of(collection: Collection) -> str:
    """The one table whose rows a tile of `collection` is made of (its version is the tile's).

    Grid tiles too: what is live is each cell's own `valid_to`, so a publish writes
    the cells that go out (closed) and come in (opened), and their extents are
    recorded; `grid_revisions` holds no geometry and no tile reads it.
    """
    return collection.table


@dataclass
class Cached:
    """One kept tile: the layer version it was made at, the tile, its gzip (once asked)."""

    version: int
    tile: Tile
    gzipped: bytes | None = field(default=None)

    def gzip(self) -> bytes:
        """The tile gzipped, made once (a race makes it twice, with the same bytes)."""
        if self.gzipped is None:
            self.gzipped = gzip.compress(self.tile.content, GZIP_LEVEL, mtime=0)
        return self.gzipped


def _size(entry: Cached) -> int:
    return len(entry.tile.content) + 200


class TileCache:
    """A byte-bounded LRU of tiles per (collection, visible fields, z, x, y); thread-safe."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[Key, Cached] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.fast_hits = 0
        """Of `hits`, those answered before the framework (`geo_api.middleware.cached_tiles`)."""
        self.misses = 0
        self.renders = 0
        """Tiles made by `render()` (kept or not): what a re-stamp saves."""
        self.restamps = 0
        """Stale tiles found untouched by the changes since, and re-stamped instead of made."""

    def cacheable(self, collection: Collection) -> bool:
        """Public-shaped layers only: per-reader case tiles are never kept."""
        return not collection.case_rows and self.max_bytes > 0

    def key(self, collection: Collection, role: str, zxy: tuple[int, int, int]) -> Key:
        """What a tile depends on besides the layer version: the fields `role` may see."""
        fields = tuple(f.name for f in collection.tile_fields(role))
        return (collection.id, fields, *zxy)

    def peek(self, key: Key) -> Cached | None:
        """The kept entry, whatever its version (the caller compares)."""
        with self._lock:
            return self._tiles.get(key)

    def hit(self, key: Key, *, fast: bool = False) -> None:
        """Count a use of a current entry and keep it at the young end of the LRU."""
        with self._lock:
            if key in self._tiles:
                self._tiles.move_to_end(key)
            self.hits += 1
            self.fast_hits += fast

    def restamp(self, key: Key, entry: Cached, version: int, *, fast: bool = False) -> None:
        """Mark a kept tile as right at `version` (no change since met it); count a hit."""
        with self._lock:
            entry.version = max(entry.version, version)
            self.restamps += 1
        self.hit(key, fast=fast)

    def get_or_render(
        self,
        *,
        session: Session,
        collection_id: str,
        role: str,
        zxy: tuple[int, int, int],
        render: Callable[[], Tile],
    ) -> Tile:
        """The cached tile when its layer has not changed since, else `render()` (kept)."""
        return self.entry(
            session=session, collection_id=collection_id, role=role, zxy=zxy, render=render
        ).tile

    def entry(
        self,
        *,
        session: Session,
        collection_id: str,
        role: str,
        zxy: tuple[int, int, int],
        render: Callable[[], Tile],
    ) -> Cached:
        """As `get_or_render`, with the entry (and so its gzipped bytes)."""
        collection = get_collection(collection_id, role)
        if not self.cacheable(collection):
            return Cached(-1, self._render(render))
        table = table_of(collection)
        key = self.key(collection, role, zxy)
        found = self.peek(key)
        if found is None:
            version = layer_version(session, table)
        else:
            version, still = still_current(session, table, found.version, zxy)
            if still and version == found.version:
                self.hit(key)
                return found
            if still:
                self.restamp(key, found, version)
                return found
        made = Cached(version, self._render(render))
        self._keep(key, made)
        return made

    def _render(self, render: Callable[[], Tile]) -> Tile:
        with self._lock:
            self.renders += 1
        return render()

    def _keep(self, key: Key, entry: Cached) -> None:
        size = _size(entry)
        if size > self.max_bytes // 8:
            return  # one huge tile would push out hundreds of ordinary ones
        with self._lock:
            self.misses += 1
            old = self._tiles.pop(key, None)
            if old is not None:
                self._bytes -= _size(old)
            self._tiles[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes and self._tiles:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= _size(dropped)
