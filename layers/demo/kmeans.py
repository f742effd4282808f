"""k-means++ and Lloyd steps on 2-d points: scipy's `kmeans2(minit="++")`, without its overhead.

The demo splits ~7,000 parents a district into a handful of children each, from
a few hundred sample points: at that size `kmeans2` spends its time in argument
checks and array-API wrappers (1.4 ms a call, 10 s of a 24,480-cell district).
This is the same arithmetic in a few numpy calls per step: the same random draws
(one integer, then one uniform per further centroid), the same squared distances
(dx² + dy², first minimum wins), the same sums in data order, so the centroids
are the same floats bit for bit and the demo does not change.
"""

from __future__ import annotations

import numpy as np

CHUNK = 8192
"""Points per block of `_nearest`: the (points × centroids) temporaries stay in cache."""


def _nearest(data: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The index of each point's nearest centroid (the first of equals), as scipy's `vq`.

    Each row is computed alone, so the blocks give the same labels as one call.
    """
    if len(data) > CHUNK:
        return np.concatenate(
            [_nearest(data[i : i + CHUNK], centroids) for i in range(0, len(data), CHUNK)]
        )
    dx = centroids[None, :, 0] - data[:, 0, None]
    dy = centroids[None, :, 1] - data[:, 1, None]
    return np.argmin(dx * dx + dy * dy, axis=1)


def _plus_plus(data: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ starting centroids, drawn as scipy's `_kpp` draws them."""
    init = np.empty((k, 2))
    init[0] = data[rng.integers(data.shape[0], dtype="int64")]
    best = np.full(data.shape[0], np.inf)
    for i in range(1, k):
        dx = data[:, 0] - init[i - 1, 0]
        dy = data[:, 1] - init[i - 1, 1]
        best = np.minimum(best, dx * dx + dy * dy)  # min over the centroids so far
        cumprobs = (best / best.sum()).cumsum()
        init[i] = data[int(np.searchsorted(cumprobs, rng.uniform()))]
    return init


def kmeans_pp(
    data: np.ndarray, k: int, iterations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Centroids and labels after `iterations` Lloyd steps from a k-means++ start.

    An empty cluster keeps its previous centroid, as in `kmeans2(missing="warn")`.
    Steps stop early at a fixed point: labels equal to the step before's give the
    same sums, so the same centroids and labels again for every step left (the
    answer is that of all `iterations` steps, bit for bit).
    """
    data = np.asarray(data, dtype=float)
    centroids = _plus_plus(data, k, rng)
    labels = np.zeros(len(data), dtype=np.int64)
    previous: np.ndarray | None = None
    for _ in range(iterations):
        labels = _nearest(data, centroids)
        if previous is not None and np.array_equal(labels, previous):
            break
        previous = labels
        size = np.bincount(labels, minlength=k)
        sx = np.bincount(labels, weights=data[:, 0], minlength=k)
        sy = np.bincount(labels, weights=data[:, 1], minlength=k)
        empty = size == 0
        fresh = np.column_stack([sx, sy]) / np.maximum(size, 1)[:, None]
        fresh[empty] = centroids[empty]
        centroids = fresh
    return centroids, labels
