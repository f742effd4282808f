"""Getis-Ord Gi* computed partition by partition, with a halo so edges are exact.

Why this is exact and not an approximation: Gi* of a cell needs (a) the sum of
the counts of the cell and its H3 neighbours, and its neighbour count, which
are local, and (b) the mean and variance of all counts, which are global and
cheap (three numbers).  Cells are partitioned by an H3 parent a few
resolutions up, so neighbours mostly fall into the same partition; a cell on
a partition's edge has neighbours in another one, so every cell is also sent,
as a *halo* row, to each partition that holds one of its neighbours.  Each
partition then sees every neighbour of each of its own cells and computes their
local sums; with the global moments the z-scores equal esda's `G_Local`
(binary weights, star) to rounding.  `halo=False` leaves the halo out — edge
cells then see too few neighbours, which is how a test proves the halo matters.

The formula is esda's (2.9, `G_Local.calc` with `star=True`):
``G_i = Σ_{j∈N*(i)} y_j / Σy``, ``E = |N*(i)|/n``,
``V = |N*(i)|(n-|N*(i)|)/(n-1)/n² · s²/ȳ²``, ``z = (G_i - E)/√V``.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3.api.numpy_int as h3int
import numpy as np
import pandas as pd
from numpy.typing import NDArray

PARENT_STEPS = 3
"""Partitions are H3 parents this many resolutions coarser (7³ ≈ 343 cells each)."""


@dataclass(frozen=True)
class Moments:
    """The three global numbers every partition needs: n, Σy and Σy²."""

    n: int
    total: float
    squares: float

    @classmethod
    def of(cls, counts: NDArray[np.float64]) -> Moments:
        """The moments of all counts."""
        return cls(len(counts), float(counts.sum()), float((counts**2).sum()))


def partition_of(cells: NDArray[np.uint64], resolution: int) -> NDArray[np.uint64]:
    """The partition key of each cell: its parent `PARENT_STEPS` resolutions up."""
    parent_res = max(0, resolution - PARENT_STEPS)
    return np.fromiter(
        (h3int.cell_to_parent(int(c), parent_res) for c in cells), dtype=np.uint64, count=len(cells)
    )


def halo_rows(
    cells: NDArray[np.uint64], counts: NDArray[np.float64], resolution: int, *, halo: bool = True
) -> pd.DataFrame:
    """Rows (partition, cell, count, core): each cell in its own partition, plus its halo copies.

    A cell is copied into every other partition holding one of its neighbours
    (that are in the study set), marked `core=False` there.
    """
    members = set(cells.tolist())
    home = partition_of(cells, resolution)
    parent_res = max(0, resolution - PARENT_STEPS)
    part, cell, count, core = [home], [cells], [counts], [np.ones(len(cells), dtype=bool)]
    if halo:
        extra_part: list[int] = []
        extra_index: list[int] = []
        for index, (c, own) in enumerate(zip(cells.tolist(), home.tolist(), strict=True)):
            seen = {own}
            for nb in h3int.grid_disk(c, 1).tolist():
                if nb in members:
                    p = h3int.cell_to_parent(nb, parent_res)
                    if p not in seen:
                        seen.add(p)
                        extra_part.append(p)
                        extra_index.append(index)
        idx = np.asarray(extra_index, dtype=np.int64)
        part.append(np.asarray(extra_part, dtype=np.uint64))
        cell.append(cells[idx])
        count.append(counts[idx])
        core.append(np.zeros(len(idx), dtype=bool))
    return pd.DataFrame(
        {
            "partition": np.concatenate(part),
            "cell": np.concatenate(cell),
            "count": np.concatenate(count),
            "core": np.concatenate(core),
        }
    )


def local_sums(rows: pd.DataFrame) -> pd.DataFrame:
    """For the core cells of one partition: the neighbourhood sum and size (self included)."""
    value = dict(zip(rows["cell"].tolist(), rows["count"].tolist(), strict=True))
    core = rows.loc[rows["core"], "cell"].to_numpy(dtype=np.uint64)
    sums = np.empty(len(core))
    sizes = np.empty(len(core))
    for i, c in enumerate(core.tolist()):
        around = [value[nb] for nb in h3int.grid_disk(c, 1).tolist() if nb in value]
        sums[i] = sum(around)
        sizes[i] = len(around)
    return pd.DataFrame({"cell": core, "sum": sums, "size": sizes})


def z_scores(sums: pd.DataFrame, moments: Moments) -> NDArray[np.float64]:
    """esda's Gi* z of each row of `sums` (binary weights, the cell itself included)."""
    n = moments.n
    mean = moments.total / n
    variance = moments.squares / n - mean**2
    size = sums["size"].to_numpy(dtype=float)
    statistic = sums["sum"].to_numpy(dtype=float) / moments.total
    expected = size / n
    spread = size * (n - size) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (statistic - expected) / np.sqrt(spread)
    return np.where(np.isfinite(z), z, np.nan)
