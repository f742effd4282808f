"""Choosing k camera views that cover most target weight: MCLP (optimal) and greedy.

The maximal covering location problem is solved with PySAL spopt's `MCLP`
(PuLP + CBC) when its dense matrices fit (`DENSE_LIMIT` cells of targets ×
candidates: spopt builds the coverage matrix and every constraint densely); a
larger instance gets the same model built sparsely here through PuLP.  Both start
CBC from the greedy choice (a warm start), so even a solve stopped by the time
limit is never worse than greedy.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pulp
from scipy import sparse

logger = logging.getLogger(__name__)

DENSE_LIMIT = 250_000
"""Largest targets × candidates matrix handed to spopt's dense MCLP."""
SOLVERS = ("auto", "spopt", "sparse")


@dataclass(frozen=True)
class Choice:
    """Chosen candidate indices, the weight and number of targets they cover."""

    picks: list[int]
    weight: float
    covered: int
    seconds: float
    method: str
    status: str = "Optimal"


def covered_by(cover: sparse.csc_matrix, picks: list[int]) -> np.ndarray:
    """Boolean per target: covered by at least one picked candidate."""
    if not picks:
        return np.zeros(cover.shape[0], dtype=bool)
    return np.asarray(cover[:, picks].sum(axis=1)).ravel() > 0


def greedy(cover: sparse.csc_matrix, weights: np.ndarray, k: int) -> Choice:
    """Pick, k times, the candidate adding the most uncovered weight (ties: lowest index)."""
    start = time.perf_counter()
    uncovered = weights.astype(float).copy()
    cover_t = cover.T.tocsr()
    picks: list[int] = []
    for _ in range(min(k, cover.shape[1])):
        gains = cover_t @ uncovered
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        picks.append(best)
        uncovered[cover[:, best].nonzero()[0]] = 0.0
    hit = covered_by(cover, picks)
    return Choice(
        picks, float(weights[hit].sum()), int(hit.sum()), time.perf_counter() - start, "greedy"
    )


def _cbc(time_limit: float) -> pulp.LpSolver:
    """CBC as bundled in PuLP 3's wheels (offline); PuLP 4 drops it, hence `pulp<4`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, warmStart=True, threads=1)


def _spopt(cover, weights, k, warm: list[int], time_limit: float) -> tuple[list[int], str]:
    from spopt.locate import MCLP  # imported late: spopt pulls in a large stack

    cost = 1.0 - cover.toarray()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spopt builds PuLP 3-style models
        model = MCLP.from_cost_matrix(cost, weights, service_radius=0.5, p_facilities=k)
    for j, var in enumerate(model.fac_vars):
        var.setInitialValue(1 if j in set(warm) else 0)
    model.solve(_cbc(time_limit), results=False)
    picks = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    return picks, pulp.LpStatus[model.problem.status]


def _sparse(cover, weights, k, warm: list[int], time_limit: float) -> tuple[list[int], str]:
    n_t, n_c = cover.shape
    prob = pulp.LpProblem("mclp_sparse", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(n_c)]
    y = [prob.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(n_t)]
    prob += pulp.lpSum(float(w) * yi for w, yi in zip(weights, y, strict=True))
    rows = cover.tocsr()
    for i in range(n_t):
        cols = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
        prob += pulp.lpSum(x[j] for j in cols) >= y[i]
    prob += pulp.lpSum(x) == min(k, n_c)
    chosen = set(warm)
    for j, var in enumerate(x):
        var.setInitialValue(1 if j in chosen else 0)
    prob.solve(_cbc(time_limit))
    picks = [j for j, var in enumerate(x) if (var.value() or 0) > 0.5]
    return picks, pulp.LpStatus[prob.status]


def mclp(
    cover: sparse.csc_matrix,
    weights: np.ndarray,
    k: int,
    *,
    solver: str = "auto",
    time_limit: float = 20.0,
    warm: Choice | None = None,
) -> Choice:
    """The k candidates covering the most target weight (MCLP), never worse than `warm`."""
    start = time.perf_counter()
    warm = warm or greedy(cover, weights, k)
    n_t, n_c = cover.shape
    k = min(k, n_c)
    if k == 0 or n_t == 0:
        return Choice([], 0.0, 0, time.perf_counter() - start, "none")
    use_spopt = solver == "spopt" or (solver == "auto" and n_t * n_c <= DENSE_LIMIT)
    run = _spopt if use_spopt else _sparse
    picks, status = run(cover, weights, k, warm.picks, time_limit)
    hit = covered_by(cover, picks)
    weight = float(weights[hit].sum())
    if weight < warm.weight - 1e-9 or not picks:  # a stopped solve without a better incumbent
        picks, hit, weight, status = warm.picks, covered_by(cover, warm.picks), warm.weight, status
    method = "spopt.MCLP" if use_spopt else "pulp-sparse-MCLP"
    return Choice(picks, weight, int(hit.sum()), time.perf_counter() - start, method, status)
