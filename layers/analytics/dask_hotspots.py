"""Hotspots over years of cases on a Dask cluster: counts from GeoParquet, Gi* by partition.

Why Dask and not a scheduler of our own: reading hundreds of millions of
points, counting them per H3 cell and spreading the per-partition work over
machines is what Dask does; the project only says what to compute.  Two steps:

1. every Parquet partition (a month of a district) is read by a worker with
   dask-geopandas, filtered, and turned into counts per H3 cell; the counts are
   summed (a tree reduction) — the only step whose input grows with the years;
2. the cells (a few million at most, for a city) get their halo rows
   (`gi_partitioned`) and each H3-parent partition computes its local sums on a
   worker; z-scores use the global moments, and the Benjamini–Hochberg step
   runs over all p-values at the end, as in-process.

The answer is the in-process `hotspot_table`'s with analytic inference:
identical classes, z to 1e-9.  Permutation p-values are not offered here (the
permutation stream of esda is sequential by nature and would not repeat).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dask
import dask_geopandas
import h3
import numpy as np
import pandas as pd
from scipy import stats

from layers.analytics.dask_scheduler import compute
from layers.analytics.gi_partitioned import Moments, halo_rows, local_sums, z_scores
from layers.analytics.hotspots import points_to_cells
from layers.analytics.spatial_stats import BIN_CLASSES, bh_adjust, gi_bins
from layers.core.errors import InvalidInputError
from layers.core.map_types import CaseFilter, HotspotQuery


def chosen_cases(frame: pd.DataFrame, filters: CaseFilter) -> pd.DataFrame:
    """The partition's non-void cases passing `filters` (as `hotspots.case_points` selects)."""
    keep = frame["status"] != "void"
    if filters.categories:
        codes = frame["category_code"].astype(str)
        wanted = set(filters.categories)
        keep &= codes.isin(wanted) | codes.str[:2].isin(wanted)
    if filters.channels:
        keep &= frame["channel_code"].astype(str).isin(set(filters.channels))
    if filters.start is not None:
        keep &= frame["created_at"] >= pd.Timestamp(filters.start)
    if filters.end is not None:
        keep &= frame["created_at"] < pd.Timestamp(filters.end)
    return frame.loc[keep]


def _partition_counts(frame: pd.DataFrame, resolution: int, filters: CaseFilter) -> pd.Series:
    """Counts per H3 cell (uint64) of one partition's cases passing `filters`."""
    chosen = chosen_cases(frame, filters)
    if chosen.empty:
        return pd.Series([], dtype="int64", index=pd.Index([], dtype="uint64"))
    geometry = chosen.geometry
    ids = points_to_cells(geometry.x.to_numpy(), geometry.y.to_numpy(), resolution)
    return pd.Series(ids).value_counts()


def cell_counts(files: Sequence[Path], query: HotspotQuery) -> pd.Series:
    """Cases per H3 cell over every file, counted by the workers (index: cell as uint64)."""
    if not files:
        raise InvalidInputError("no GeoParquet files to read", code="no_case_files")
    frame = dask_geopandas.read_parquet([str(f) for f in files])
    parts = [
        dask.delayed(_partition_counts)(part, query.resolution, query.filters)
        for part in frame.to_delayed()
    ]
    while len(parts) > 1:  # a tree of sums: no worker holds every partition's counts at once
        parts = [dask.delayed(_add)(*parts[i : i + 8]) for i in range(0, len(parts), 8)]
    (total,) = compute(parts[0])
    return total


def _add(*series: pd.Series) -> pd.Series:
    out = series[0]
    for more in series[1:]:
        out = out.add(more, fill_value=0)
    return out


def dask_hotspot_table(
    files: Sequence[Path], area: list[str], query: HotspotQuery, *, halo: bool = True
) -> pd.DataFrame:
    """The hotspot table of `hotspot_table`, computed on the current Dask scheduler."""
    counted = cell_counts(files, query)
    area_ids = np.array([h3.str_to_int(c) for c in area], dtype=np.uint64)
    cells = np.union1d(area_ids, counted.index.to_numpy(dtype=np.uint64))
    counts = counted.reindex(cells, fill_value=0).to_numpy(dtype=float)
    z = _z(cells, counts, query.resolution, halo=halo)
    p = np.where(np.isfinite(z), np.clip(2.0 * stats.norm.sf(np.abs(z)), 0.0, 1.0), 1.0)
    bins = gi_bins(z, p, fdr=query.fdr)
    return pd.DataFrame(
        {
            "cell": [h3.int_to_str(int(c)) for c in cells],
            "count": counts.astype(int),
            "z": np.round(z, 4),
            "z_exact": z,
            "p_norm": p,
            "p_sim": np.full(len(cells), np.nan),
            "p_fdr": bh_adjust(p) if query.fdr else p,
            "gi_bin": bins,
            "class": [BIN_CLASSES[int(b)] for b in bins],
        }
    )


def _z(cells: np.ndarray, counts: np.ndarray, resolution: int, *, halo: bool) -> np.ndarray:
    """Gi* z of every cell (NaN where esda's would be undefined), partitions on the workers."""
    n = len(counts)
    if n < 3 or counts.sum() <= 0 or np.ptp(counts) == 0:
        return np.full(n, np.nan)
    rows = halo_rows(cells, counts, resolution, halo=halo)
    groups = [group for _, group in rows.groupby("partition", sort=True)]
    sums = compute(*[dask.delayed(local_sums)(g) for g in groups])
    joined = pd.concat(sums, ignore_index=True).set_index("cell").reindex(cells)
    return z_scores(joined.reset_index(), Moments.of(counts))
