"""MCLP beats (or ties) greedy, on a crafted case where greedy is known to lose."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from layers.analytics.siting_solve import greedy, mclp


def cover(columns: list[list[int]], n_targets: int) -> sparse.csc_matrix:
    rows = [t for col in columns for t in col]
    cols = [j for j, col in enumerate(columns) for _ in col]
    return sparse.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_targets, len(columns)))


# candidate 0 takes the middle of two groups; 1 and 2 each take one whole group
CRAFTED = cover([[0, 1, 2, 3, 4], [0, 1, 2, 5], [3, 4, 6, 7]], 8)


@pytest.mark.parametrize("solver", ["spopt", "sparse"])
def test_mclp_beats_greedy_on_the_crafted_case(solver: str) -> None:
    w = np.ones(8)
    g = greedy(CRAFTED, w, 2)
    assert g.picks[0] == 0 and g.covered == 7  # greedy's first pick blocks the optimum
    best = mclp(CRAFTED, w, 2, solver=solver, time_limit=10)
    assert sorted(best.picks) == [1, 2] and best.covered == 8 and best.weight == 8
    assert best.status == "Optimal"


def test_mclp_ties_greedy_when_greedy_is_optimal_and_respects_weights() -> None:
    m = cover([[0], [1], [2, 3]], 4)
    w = np.array([5.0, 1.0, 1.0, 1.0])
    g, best = greedy(m, w, 1), mclp(m, w, 1, solver="sparse")
    assert g.picks == best.picks == [0] and g.weight == best.weight == 5


def test_random_instances_mclp_never_worse_than_greedy() -> None:
    rng = np.random.default_rng(2)
    for _ in range(5):
        m = sparse.random(60, 40, density=0.08, random_state=rng, format="csc")
        m.data[:] = 1
        w = rng.integers(1, 4, 60).astype(float)
        g, best = greedy(m, w, 5), mclp(m, w, 5, time_limit=10)
        assert best.weight >= g.weight - 1e-9
