"""Years of closed historical cases for a city district, drawn column-wise.

Why not `cases.make_cases`: it walks every case through its workflow trail in
Python (≈ 10 events a case), which is right for one district's eleven months
and far too slow for 1.5 M cases.  A city's history is what an import of old
cases looks like: closed cases without trails.  What the analytics need is
kept: background cases follow where people live, persistent hotspots run
through every year, emerging ones start in the last year and grow towards
`now` — so Gi* and the emerging-hotspot classes have something true to find.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from layers.demo.cases import CHANNEL_WEIGHTS, HistoricalCases, _hourly_profile
from layers.demo.density import DensityField, points_in
from layers.demo.dwellings import Buildings
from layers.demo.hierarchy import Hierarchy
from layers.demo.trails import CategoryInfo

KIND_SHARES = (0.62, 0.26, 0.12)
"""Background, persistent hotspot, emerging hotspot."""
EMERGING_DAYS = 365
DAY_S = 86400


def _points(
    h: Hierarchy, b: Buildings, density: DensityField, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, kind (0 background, 1 persistent, 2 emerging) and level-3 cell of `n` cases."""
    kinds = rng.choice(3, size=n, p=KIND_SHARES)
    scale = max(1, round(len(h.cells[3]) / 2000))  # more hotspots in a bigger district
    pts = np.zeros((n, 2))
    bg = np.flatnonzero(kinds == 0)
    weight = b.households + 1.0
    centroids = np.array([g.centroid.coords[0] for g in b.geoms])
    pts[bg] = centroids[rng.choice(len(b.geoms), size=len(bg), p=weight / weight.sum())]
    pts[bg] += rng.normal(0, 25, (len(bg), 2))
    for kind, count, lo, hi in ((1, 8, 100, 250), (2, 4, 90, 180)):
        centres = density.sample(count * scale, rng)
        sigma = rng.uniform(lo, hi, len(centres))
        sel = np.flatnonzero(kinds == kind)
        which = rng.integers(0, len(centres), len(sel))
        pts[sel] = centres[which] + rng.normal(0, 1, (len(sel), 2)) * sigma[which, None]
    l3 = points_in(h.cells[3].geoms, pts)
    while (missing := np.flatnonzero(l3 < 0)).size:  # fell outside: redraw at a building
        pts[missing] = centroids[rng.choice(len(b.geoms), size=len(missing))]
        l3[missing] = points_in(h.cells[3].geoms, pts[missing])
    return pts, kinds, l3


def _times(kinds: np.ndarray, years: int, now: datetime, rng: np.random.Generator) -> np.ndarray:
    """Creation times (epoch seconds, UTC) at a daily rhythm; emerging cases rise to `now`."""
    n = len(kinds)
    span = 365 * years
    age = rng.uniform(0, span, n)
    emerging = kinds == 2
    age[emerging] = EMERGING_DAYS * (1 - np.sqrt(rng.uniform(0, 1, int(emerging.sum()))))
    now_s = int(now.timestamp())
    day = (now_s - age * DAY_S).astype(np.int64) // DAY_S * DAY_S
    local_hour = rng.choice(24, size=n, p=_hourly_profile())
    at = day + ((local_hour - 8) % 24) * 3600 + rng.integers(0, 3600, n)
    return np.where(at < now_s, at, at - DAY_S)


def make_city_cases(
    h: Hierarchy,
    b: Buildings,
    density: DensityField,
    categories: list[CategoryInfo],
    per_year: int,
    years: int,
    now: datetime,
    rng: np.random.Generator,
) -> HistoricalCases:
    """`per_year × years` closed cases, oldest first (columns as `write_city_cases` reads)."""
    n = per_year * years
    pts, kinds, l3 = _points(h, b, density, n, rng)
    created = _times(kinds, years, now, rng)
    order = np.argsort(created, kind="stable")
    pts, kinds, l3, created = pts[order], kinds[order], l3[order], created[order]
    cat_p = np.array([0.5 if c.default_urgency == "urgent" else 1.0 for c in categories])
    category = rng.choice(len(categories), size=n, p=cat_p / cat_p.sum())
    channels = list(CHANNEL_WEIGHTS)
    ch_p = np.array([CHANNEL_WEIGHTS[c] for c in channels])
    channel = rng.choice(len(channels), size=n, p=ch_p / ch_p.sum())
    handled_s = np.exp(rng.normal(np.log(2 * DAY_S), 0.8, n)).astype(np.int64)
    closed = np.minimum(created + handled_s, int(now.timestamp()))
    out = HistoricalCases(points=pts, l3=l3)
    out.columns = {
        "created_s": created.tolist(),
        "closed_s": closed.tolist(),
        "category": [categories[i].code for i in category],
        "category_name": [categories[i].name for i in category],
        "urgency": [categories[i].default_urgency for i in category],
        "channel": [channels[i] for i in channel],
        "kind": kinds.tolist(),
    }
    return out
