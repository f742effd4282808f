"""Batch locate on a Dask cluster: the grid sent to every worker once, the points in chunks.

Why a broadcast and not cells partitioned by space: the grid is the small side
of this join (a city's 441,052 level-3 cells are ≈ 100 MB of WKB) and the
points the big one (worker tracks, years of cases: billions).  Each worker
rebuilds the snapshot's indexes from the WKB the first time it locates (the
pickled form holds no raster or tree; ≈ 40 s and 3.4 GB a worker for a city)
and then answers chunk after chunk with the in-process code, so every answer
is the in-process one — the nearest-cell and fallback rules included, which a
spatial partition would have to repeat across its edges with a halo.  The
price is the index on every worker; a grid too large for one worker's memory
would need the spatial partition instead.

Below `DASK_MIN_POINTS` the cluster costs more than it saves (a chunk of a
million takes ≈ 2.5 s here), so smaller batches stay in-process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grids.grid.cell_index import CHUNK_POINTS
from grids.grid.grid_snapshot import CellChains, GridSnapshot
from layers.analytics.dask_scheduler import gather

DASK_MIN_POINTS = 2_000_000
"""Smaller batches are located in-process even when a scheduler is set."""


def _locate_chunk(
    snapshot: GridSnapshot, xs: np.ndarray, ys: np.ndarray, tolerance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One chunk on a worker: the arrays of its answer (not the snapshot, which stays there)."""
    chains = snapshot.locate(xs, ys, tolerance_m=tolerance_m)
    (_, _, pos) = chains.parts[0]
    return chains.method, chains.distance_m, chains.revision_id, pos


_SENT: dict[str, Any] = {}
"""The snapshot last sent and its copies: the workers keep them (and the indexes they built
from them) for the next batch against the same grid; a new grid replaces them."""


def _copies(client: Any, snapshot: GridSnapshot) -> dict[str, Any]:
    """One copy of `snapshot` per worker, under a key of its own (worker address → future).

    Why not one broadcast key: the scheduler's active memory manager drops the
    extra replicas of a key between batches, and a worker that lost its copy
    fetched it again and rebuilt its indexes (≈ 60 s for the city).
    """
    if _SENT.get("snapshot") is not snapshot or _SENT.get("client") is not client:
        _SENT.clear()  # releasing the old futures lets the workers drop the old grid
        workers = sorted(client.scheduler_info()["workers"])
        copies = {w: client.scatter(snapshot, workers=[w], hash=False) for w in workers}
        _SENT.update(snapshot=snapshot, client=client, copies=copies)
    return _SENT["copies"]


def locate_on_cluster(
    snapshot: GridSnapshot,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    tolerance_m: float,
    chunk: int = CHUNK_POINTS,
) -> CellChains:
    """`snapshot.locate(xs, ys)` computed by the workers of the current Dask client.

    The caller opens the client (`layers.analytics.dask_scheduler.dask_client`).
    Chunks go round the workers, each to the worker holding its copy of the grid.
    """
    from distributed import get_client

    client = get_client()
    copies = _copies(client, snapshot)
    workers = list(copies)
    futures = [
        client.submit(
            _locate_chunk,
            copies[workers[k % len(workers)]],
            xs[i : i + chunk],
            ys[i : i + chunk],
            tolerance_m,
            workers=[workers[k % len(workers)]],
            allow_other_workers=False,
            pure=False,
        )
        for k, i in enumerate(range(0, len(xs), chunk))
    ]
    if not futures:
        return snapshot.locate(xs, ys, tolerance_m=tolerance_m)
    parts = gather(client, futures)
    method = np.concatenate([p[0] for p in parts])
    distance = np.concatenate([p[1] for p in parts])
    revision = np.concatenate([p[2] for p in parts])
    pos = {name: np.concatenate([p[3][name] for p in parts]) for name in parts[0][3]}
    return CellChains(method, distance, revision, [(None, snapshot, pos)])
