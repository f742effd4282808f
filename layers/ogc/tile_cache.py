"""Rendered vector tiles kept in memory, checked against the layer's version on every use.

Why: a web map asks for the same tiles again and again (every visitor of the
resident map, every pan back), and ST_AsMVT over a street's buildings costs
milliseconds where looking up one counter costs a tenth of one.  A cached tile
is used only while its table's `layer_versions` counter (bumped by a trigger
on every write: OGC edits, imports, a grid publish) is what it was when the
tile was made, so an edit or a publish is seen by the next tile request of
every server process.  Cases are never cached: their tiles are per reader
and intake changes them all the time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.ogc.registry import Collection, get_collection
from layers.ogc.tiles import Tile

VERSION_SQL = text(
    "SELECT coalesce(sum(version), -1) FROM layer_versions WHERE table_name = ANY(:tables)"
)
GRID_TABLES = ("grid_cells", "grid_revisions")
"""The live grid is cells *and* which revision is live: a publish changes either."""

Key = tuple[str, tuple[str, ...], int, int, int]


def _tables(collection: Collection) -> list[str]:
    return list(GRID_TABLES) if collection.table == "grid_cells" else [collection.table]


class TileCache:
    """A byte-bounded LRU of tiles per (collection, visible fields, z, x, y); thread-safe."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[Key, tuple[int, Tile]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

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
        collection = get_collection(collection_id, role)
        if collection.case_rows or self.max_bytes <= 0:
            return render()
        version = int(session.execute(VERSION_SQL, {"tables": _tables(collection)}).scalar_one())
        fields = tuple(f.name for f in collection.tile_fields(role))
        key: Key = (collection.id, fields, *zxy)
        with self._lock:
            found = self._tiles.get(key)
            if found is not None and found[0] == version:
                self._tiles.move_to_end(key)
                self.hits += 1
                return found[1]
        tile = render()
        self._keep(key, version, tile)
        return tile

    def _keep(self, key: Key, version: int, tile: Tile) -> None:
        size = len(tile.content) + 200
        if size > self.max_bytes // 8:
            return  # one huge tile would push out hundreds of ordinary ones
        with self._lock:
            self.misses += 1
            old = self._tiles.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1].content) + 200
            self._tiles[key] = (version, tile)
            self._bytes += size
            while self._bytes > self.max_bytes and self._tiles:
                _, (_, dropped) = self._tiles.popitem(last=False)
                self._bytes -= len(dropped.content) + 200
