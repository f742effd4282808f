"""Local statistics for hotspots: Getis-Ord Gi*, Benjamini-Hochberg FDR, Mann-Kendall.

Pure numpy/PySAL functions, no database.  Choices made here (and why):

- Gi* uses binary weights (`transform="B"`) with the focal cell included
  (`star=True`): then esda's analytic z-score is the Getis-Ord Gi* z of Esri's
  Hot Spot Analysis, and its normal p-value is exact enough for FDR.
- esda's `p_norm` and `p_sim` are one-sided (the folded tail); both are doubled
  here for a two-sided test, as hot and cold spots are both of interest.
- With P permutations the smallest pseudo p-value is 1/(P+1), so after
  Benjamini-Hochberg over ~1,000 cells nothing reaches 99 % with 999 permutations.
  Classes therefore use the analytic p-values by default (`inference="analytic"`);
  permutation p-values are reported beside them and can be chosen instead.
- `esda.fdr` returns a single cut-off, not adjusted p-values, so the BH step-up
  adjustment (q-values, monotone, capped at 1) is SciPy's
  `stats.false_discovery_control`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import esda
import numpy as np
from libpysal.graph import Graph
from numpy.typing import NDArray
from scipy import stats

logger = logging.getLogger(__name__)

Floats = NDArray[np.float64]
CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))
"""Gi bin → largest FDR-adjusted p-value for it: 99 %, 95 %, 90 % confidence."""
INFERENCES = ("analytic", "permutation")
BIN_CLASSES = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    0: "not_significant",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}


@dataclass(frozen=True)
class GiStar:
    """Gi* of every cell: z-score and two-sided p-values (analytic, permutation)."""

    z: Floats
    p_norm: Floats
    p_sim: Floats | None


def h3_graph(cells: list[str]) -> Graph:
    """First-order H3 contiguity between `cells` (binary weights)."""
    return Graph.build_h3(cells, order=1, weight="binary")


def gi_star(y: Floats, graph: Graph, *, permutations: int = 0, seed: int | None = None) -> GiStar:
    """Getis-Ord Gi* of `y` over `graph` (binary, self included), two-sided p-values."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 3 or not np.isfinite(y).all() or y.sum() <= 0 or np.ptp(y) == 0:
        nan = np.full(n, np.nan)
        return GiStar(nan, np.ones(n), np.ones(n) if permutations else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 in cells of an empty slice
        warnings.simplefilter("ignore", DeprecationWarning)  # crand's future default; we double
        g = esda.G_Local(
            y,
            graph,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
            keep_simulations=False,
            n_jobs=1,
        )
    z = np.asarray(g.Zs, dtype=float)
    p_norm = np.clip(2.0 * stats.norm.sf(np.abs(z)), 0.0, 1.0)
    p_sim = np.clip(2.0 * np.asarray(g.p_sim, dtype=float), 0.0, 1.0) if permutations else None
    return GiStar(np.where(np.isfinite(z), z, np.nan), np.where(np.isfinite(z), p_norm, 1.0), p_sim)


def bh_adjust(p: Floats) -> Floats:
    """Benjamini-Hochberg adjusted p-values (q-values, SciPy's); NaN p counts as 1."""
    p = np.where(np.isfinite(p), np.asarray(p, dtype=float), 1.0)
    if len(p) == 0:
        return p
    return stats.false_discovery_control(np.clip(p, 0.0, 1.0), method="bh")


def gi_bins(z: Floats, p: Floats, *, fdr: bool = True) -> NDArray[np.int8]:
    """Esri's Gi_Bin: ±3/±2/±1 for hot/cold at 99/95/90 % confidence, 0 not significant."""
    q = bh_adjust(p) if fdr else np.where(np.isfinite(p), p, 1.0)
    level = np.zeros(len(q), dtype=np.int8)
    for bin_, alpha in reversed(CONFIDENCE_LEVELS):
        level[q <= alpha] = bin_
    sign = np.sign(np.nan_to_num(z)).astype(np.int8)
    return (level * sign).astype(np.int8)


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall trend per row: S, z (continuity-corrected), two-sided p, Kendall's tau."""

    s: Floats
    z: Floats
    p: Floats
    tau: Floats


def mann_kendall(series: Floats) -> MannKendall:
    """Mann-Kendall test along axis 1 of `series` (rows = locations, columns = time steps).

    NaN steps count as ties at 0 (a step with no data shows no clustering).  The
    variance has the tie correction; z uses the ±1 continuity correction.
    """
    x = np.nan_to_num(np.atleast_2d(np.asarray(series, dtype=float)))
    n = x.shape[1]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    var = np.full(len(x), n * (n - 1) * (2 * n + 5) / 18.0)
    rounded = np.round(x, 10)
    for row in range(len(x)):
        _, counts = np.unique(rounded[row], return_counts=True)
        ties = counts[counts > 1]
        if len(ties):
            var[row] -= (ties * (ties - 1) * (2 * ties + 5)).sum() / 18.0
    sd = np.sqrt(np.maximum(var, 1e-12))
    z = np.where(s > 0, (s - 1) / sd, np.where(s < 0, (s + 1) / sd, 0.0))
    z = np.where(var > 0, z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (n * (n - 1) / 2.0) if n > 1 else np.zeros(len(x))
    return MannKendall(s.astype(float), z, p, tau)
