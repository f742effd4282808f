"""Emerging Hot Spot Analysis: the 17 outcomes of Esri's tool from a cell's Gi* history.

Input per cell: the Gi bins of every time step (±1..3 = hot/cold at 90/95/99 %
after FDR, 0 = not significant; see `layers.analytics.spatial_stats.gi_bins`) and the
Mann-Kendall trend of its Gi* z-scores.  Rules, hot side (cold mirrors it):

1. final step hot and ≥ 90 % of steps hot → intensifying (significant upward
   trend), diminishing (significant downward trend) or persistent (no trend);
2. final step hot and a cold spot at some earlier step → oscillating;
3. final step hot and never hot before → new;
4. final step hot, an uninterrupted run of ≥ 2 hot steps at the end, never hot
   before that run, < 90 % hot → consecutive;
5. final step hot otherwise (on-and-off, never cold) → sporadic;
6. final step not hot and ≥ 90 % of steps hot → historical;
7. nothing of the above → no pattern.

Where Esri's definitions overlap (a cell that was cold and is hot only at the
end fits "new", "consecutive" and "oscillating") the opposite-sign history wins
(oscillating), which is also what R's sfdep does.  Unlike sfdep, "new",
"intensifying" and the 90 % share count only same-sign bins (Esri), persistent
requires the final step (otherwise it is historical), and bins come after FDR.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

NO_PATTERN = "no pattern detected"
PATTERNS: tuple[str, ...] = ("new", "consecutive", "intensifying", "persistent", "diminishing")
PATTERNS += ("sporadic", "oscillating", "historical")
CATEGORIES = (NO_PATTERN, *(f"{p} {s}" for s in ("hot spot", "cold spot") for p in PATTERNS))
"""The 17 outcomes: no pattern, then 8 hot-spot and 8 cold-spot patterns."""
SHARE = 0.9


def classify_one(bins: NDArray[np.int8], trend_z: float, trend_p: float, alpha: float) -> str:
    """The outcome of one cell from its bins over time (oldest first) and its trend."""
    hot = _classify_side(bins > 0, bins < 0, trend_z, trend_p, alpha, rising=True)
    if hot is not None:
        return f"{hot} hot spot"
    cold = _classify_side(bins < 0, bins > 0, trend_z, trend_p, alpha, rising=False)
    if cold is not None:
        return f"{cold} cold spot"
    return NO_PATTERN


def _classify_side(
    same: NDArray[np.bool_],
    other: NDArray[np.bool_],
    trend_z: float,
    trend_p: float,
    alpha: float,
    *,
    rising: bool,
) -> str | None:
    n = len(same)
    if n == 0:
        return None
    mostly = same.sum() >= SHARE * n
    if not same[-1]:
        return "historical" if mostly else None
    if mostly:
        if trend_p < alpha and trend_z != 0:
            stronger = trend_z > 0 if rising else trend_z < 0
            return "intensifying" if stronger else "diminishing"
        return "persistent"
    if other[:-1].any():
        return "oscillating"
    if same.sum() == 1:
        return "new"
    run = _final_run(same)
    if run >= 2 and not same[: n - run].any():
        return "consecutive"
    return "sporadic"


def _final_run(flags: NDArray[np.bool_]) -> int:
    """Length of the uninterrupted run of True at the end."""
    misses = np.flatnonzero(~flags)
    return len(flags) if len(misses) == 0 else len(flags) - 1 - int(misses[-1])


def classify(
    bins: NDArray[np.int8], trend_z: NDArray[np.float64], trend_p: NDArray[np.float64], alpha: float
) -> list[str]:
    """Outcome per row of `bins` (cells × time steps, oldest first)."""
    return [
        classify_one(bins[i], float(trend_z[i]), float(trend_p[i]), alpha) for i in range(len(bins))
    ]
