"""Emerging trends over years of cases on a Dask cluster: the in-process `trend_table`'s answer.

Three steps, each on the workers:

1. every GeoParquet partition (a month of a district) becomes counts per
   (H3 cell, local day), with the partition's first and last case time; the
   counts are summed in a tree.  Slices start at local midnights (months or
   Monday weeks in China Standard Time), so a local day falls in exactly one
   slice and the cube built from day counts is the one built from the cases;
2. each time slice's Gi* and FDR bins are independent of the others' — the
   natural partition of a space-time cube — so a slice is a task, the H3
   graph shipped once;
3. Mann-Kendall and the 17-outcome classification work cell by cell, so they
   run over chunks of cells.

Why not spatial partitions with a halo, as hotspots do: a slice of a city
(≈ 40,000 cells at resolution 9) is small, and there are tens of slices; the
halo would only add rows.  The space that grows is years × cells, split both ways here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dask
import dask_geopandas
import h3
import numpy as np
import pandas as pd

from layers.analytics.dask_hotspots import chosen_cases
from layers.analytics.dask_scheduler import compute
from layers.analytics.ehsa import classify
from layers.analytics.hotspots import points_to_cells
from layers.analytics.spatial_stats import Graph, gi_bins, gi_star, h3_graph, mann_kendall
from layers.analytics.trends import TrendQuery, edge_seconds, slice_edges
from layers.core.errors import InvalidInputError, UnprocessableError

DAY_S = 86400
LOCAL_OFFSET_S = 8 * 3600
"""China Standard Time, UTC+8 all year (no daylight saving since 1991)."""
CELL_CHUNK = 20_000


def _day_counts(frame: pd.DataFrame, query: TrendQuery) -> tuple[pd.DataFrame, float, float]:
    """(counts per cell and local day, first and last case time) of one partition."""
    chosen = chosen_cases(frame, query.filters)
    if chosen.empty:
        return pd.DataFrame({"cell": [], "day": [], "n": []}), np.inf, -np.inf
    when = chosen["created_at"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6
    geometry = chosen.geometry
    cells = points_to_cells(geometry.x.to_numpy(), geometry.y.to_numpy(), query.resolution)
    day = np.floor((when + LOCAL_OFFSET_S) / DAY_S).astype(np.int64)
    counts = pd.DataFrame({"cell": cells, "day": day}).value_counts().rename("n").reset_index()
    return counts, float(when.min()), float(when.max())


def _merge(*parts: tuple[pd.DataFrame, float, float]) -> tuple[pd.DataFrame, float, float]:
    frames = [p[0] for p in parts if len(p[0])]
    merged = (
        pd.concat(frames).groupby(["cell", "day"], as_index=False)["n"].sum()
        if frames
        else parts[0][0]
    )
    return merged, min(p[1] for p in parts), max(p[2] for p in parts)


def day_counts(files: Sequence[Path], query: TrendQuery) -> tuple[pd.DataFrame, float, float]:
    """Counts per (cell, local day) over every file, with the first and last case time."""
    if not files:
        raise InvalidInputError("no GeoParquet files to read", code="no_case_files")
    frame = dask_geopandas.read_parquet([str(f) for f in files])
    parts = [dask.delayed(_day_counts)(part, query) for part in frame.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_merge)(*parts[i : i + 8]) for i in range(0, len(parts), 8)]
    (total,) = compute(parts[0])
    return total


def _slice(y: np.ndarray, graph: Graph, fdr: bool) -> tuple[np.ndarray, np.ndarray]:
    gi = gi_star(y, graph)
    return gi.z, gi_bins(gi.z, gi.p_norm, fdr=fdr)


def _outcomes(z: np.ndarray, bins: np.ndarray, alpha: float) -> pd.DataFrame:
    mk = mann_kendall(z)
    return pd.DataFrame(
        {
            "category": classify(bins, mk.z, mk.p, alpha),
            "trend_z": np.round(mk.z, 4),
            "trend_p": np.round(mk.p, 6),
            "tau": np.round(mk.tau, 4),
        }
    )


def dask_trend_table(
    files: Sequence[Path], area: list[str], query: TrendQuery
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """(`trends.trend_table` of every case in `files`, the slice edges), on the workers."""
    counted, first_seen, last_seen = day_counts(files, query)
    if not np.isfinite(first_seen):
        raise UnprocessableError("no incidents match the filters", code="no_incidents")
    f = query.filters
    first = f.start.timestamp() if f.start else first_seen
    last = f.end.timestamp() - 1e-3 if f.end else last_seen
    edges = slice_edges(first, last, query.interval)
    n_slices = len(edges) - 1
    area_ids = np.array([h3.str_to_int(c) for c in area], dtype=np.uint64)
    cell_ids = counted["cell"].to_numpy(dtype=np.uint64)
    cells, inverse = np.unique(np.concatenate([area_ids, cell_ids]), return_inverse=True)
    row = inverse[len(area_ids) :]
    day_start = counted["day"].to_numpy(dtype=np.int64) * DAY_S - LOCAL_OFFSET_S
    slot = np.searchsorted(edge_seconds(edges), day_start, side="right") - 1
    n = counted["n"].to_numpy(dtype=float)
    totals = np.bincount(row, weights=n, minlength=len(cells))
    inside = (slot >= 0) & (slot < n_slices)
    cube = np.zeros((len(cells), n_slices))
    np.add.at(cube, (row[inside], slot[inside]), n[inside])
    names = [h3.int_to_str(int(c)) for c in cells]
    graph = dask.delayed(h3_graph(names), pure=True)
    sliced = compute(*[dask.delayed(_slice)(cube[:, t], graph, query.fdr) for t in range(n_slices)])
    z = np.column_stack([s[0] for s in sliced])
    bins = np.column_stack([s[1] for s in sliced]).astype(np.int8)
    chunks = range(0, len(cells), CELL_CHUNK)
    parts = compute(
        *[
            dask.delayed(_outcomes)(z[i : i + CELL_CHUNK], bins[i : i + CELL_CHUNK], query.alpha)
            for i in chunks
        ]
    )
    out = pd.concat(parts, ignore_index=True)
    table = pd.DataFrame({"cell": names, "count": totals.astype(int)})
    table = pd.concat([table, out], axis=1)
    table["hot_steps"] = (bins > 0).sum(axis=1)
    table["cold_steps"] = (bins < 0).sum(axis=1)
    table["last_bin"] = bins[:, -1]
    table["bins"] = [r.tolist() for r in bins]
    return table, edges
