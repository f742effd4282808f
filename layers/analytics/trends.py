"""Emerging trends: Gi* per H3 cell and time slice, FDR per slice, Mann-Kendall, 17 outcomes.

Time slices are calendar weeks (Monday) or months in China Standard Time, from
the first slice holding `start` (default: the first incident) to `end`
(default: the last incident).  Each slice gets its own spatial Gi* (binary H3
contiguity, the cell itself included) and its own Benjamini-Hochberg
correction; the Mann-Kendall trend runs on each cell's Gi* z-scores.  Esri's
tool uses a space-time neighbourhood (neighbours in earlier slices too); this
one compares cells within a slice only, so a single busy week moves fewer cells.
See `layers.analytics.ehsa` for the classification rules.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from layers.analytics import derived
from layers.analytics.ehsa import classify
from layers.analytics.hotspots import (
    CaseFilter,
    aggregate,
    case_points,
    check_resolution,
    inputs_key,
    study_cells,
    validate_filter,
)
from layers.analytics.spatial_stats import gi_bins, gi_star, h3_graph, mann_kendall
from layers.core.errors import InvalidInputError, UnprocessableError
from layers.core.limit_settings import LimitSettings
from layers.core.limits import check_limit

logger = logging.getLogger(__name__)

KIND = "trends"
TIMEZONE = "Asia/Shanghai"
INTERVALS = {"week": "W-MON", "month": "MS"}
MIN_SLICES = 4
"""Fewer slices give no usable trend (Esri recommends at least 10)."""
MAX_SLICES = 260


@dataclass(frozen=True, kw_only=True)
class TrendQuery:
    """An emerging hot spot analysis: resolution, slice interval, filters, trend alpha."""

    resolution: int = 9
    interval: str = "month"
    filters: CaseFilter = field(default_factory=CaseFilter)
    alpha: float = 0.05
    fdr: bool = True


def slice_edges(first: float, last: float, interval: str) -> pd.DatetimeIndex:
    """Slice bounds (UTC) covering [first, last] epoch seconds, aligned to local weeks/months."""
    if interval not in INTERVALS:
        raise InvalidInputError("interval must be week or month", code="invalid_interval")
    lo = pd.Timestamp(first, unit="s", tz="UTC").tz_convert(TIMEZONE)
    hi = pd.Timestamp(last, unit="s", tz="UTC").tz_convert(TIMEZONE)
    if interval == "month":
        start = lo.normalize().replace(day=1)
    else:
        start = (lo - pd.Timedelta(days=lo.weekday())).normalize()
    edges = pd.date_range(start, hi + pd.Timedelta(seconds=1), freq=INTERVALS[interval])
    edges = edges.union([start])
    if edges[-1] <= hi:
        edges = edges.append(
            pd.DatetimeIndex([edges[-1] + pd.tseries.frequencies.to_offset(INTERVALS[interval])])
        )
    return edges.tz_convert("UTC")


def edge_seconds(edges: pd.DatetimeIndex) -> np.ndarray:
    """Slice bounds as epoch seconds, whatever the index's unit (pandas 3 makes it µs, not ns)."""
    return edges.as_unit("ns").asi8 / 1e9


def trend_table(
    lon: np.ndarray,
    lat: np.ndarray,
    when: np.ndarray,
    cells_area: list[str],
    query: TrendQuery,
    edges: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Per cell: total, Gi bins per slice, Mann-Kendall of z, and the EHSA outcome."""
    n_slices = len(edges) - 1
    cells, totals, inverse = aggregate(lon, lat, query.resolution, cells_area)
    slot = np.searchsorted(edge_seconds(edges), when, side="right") - 1
    inside = (slot >= 0) & (slot < n_slices)
    cube = np.zeros((len(cells), n_slices))
    np.add.at(cube, (inverse[inside], slot[inside]), 1.0)
    graph = h3_graph(cells)
    z = np.full_like(cube, np.nan)
    bins = np.zeros(cube.shape, dtype=np.int8)
    for t in range(n_slices):
        gi = gi_star(cube[:, t], graph)
        z[:, t] = gi.z
        bins[:, t] = gi_bins(gi.z, gi.p_norm, fdr=query.fdr)
    mk = mann_kendall(z)
    return pd.DataFrame(
        {
            "cell": cells,
            "count": totals.astype(int),
            "category": classify(bins, mk.z, mk.p, query.alpha),
            "trend_z": np.round(mk.z, 4),
            "trend_p": np.round(mk.p, 6),
            "tau": np.round(mk.tau, 4),
            "hot_steps": (bins > 0).sum(axis=1),
            "cold_steps": (bins < 0).sum(axis=1),
            "last_bin": bins[:, -1],
            "bins": [row.tolist() for row in bins],
        }
    )


def trends(
    *,
    session: Session,
    query: TrendQuery,
    limits: LimitSettings,
    actor: str = "system",
    role: str = "system",
) -> tuple[pd.DataFrame, list[str]]:
    """(per-cell outcome table, slice start times ISO) for `query`, cached until inputs change.

    A resolution, or cells × time slices, beyond `limits` is refused before the analysis.
    """
    cells = check_resolution(session=session, resolution=query.resolution, limits=limits)
    validate_filter(session=session, filters=query.filters)
    if query.interval not in INTERVALS:
        raise InvalidInputError("interval must be week or month", code="invalid_interval")
    params = derived.params_key({"kind": KIND, **asdict(query)})
    key = inputs_key(session=session)
    hit = derived.cached(session=session, kind=KIND, params=params, inputs_key=key)
    if hit is not None and hit.payload is not None:
        return pd.DataFrame(hit.payload["table"]), hit.payload["slices"]
    start = time.perf_counter()
    lon, lat, when = case_points(session=session, filters=query.filters)
    if len(when) == 0:
        raise UnprocessableError("no incidents match the filters", code="no_incidents")
    f = query.filters
    first = f.start.timestamp() if f.start else float(when.min())
    last = f.end.timestamp() - 1e-3 if f.end else float(when.max())
    edges = slice_edges(first, last, query.interval)
    n_slices = len(edges) - 1
    if not MIN_SLICES <= n_slices <= MAX_SLICES:
        raise UnprocessableError(
            f"{n_slices} time slices; between {MIN_SLICES} and {MAX_SLICES} are needed",
            code="too_few_time_steps" if n_slices < MIN_SLICES else "too_many_time_steps",
            slices=n_slices,
        )
    check_limit(
        "cells × time slices",
        cells * n_slices,
        limits.cell_slices,
        hint=f"about {cells:,} cells at resolution {query.resolution} × {n_slices} slices: "
        "use a coarser resolution, monthly slices or a shorter period",
    )
    area = study_cells(session=session, resolution=query.resolution)
    table = trend_table(lon, lat, when, area, query, edges)
    slices = [t.isoformat() for t in edges[:-1].tz_convert(TIMEZONE)]
    payload = {"table": {c: table[c].tolist() for c in table.columns}, "slices": slices}
    derived.store(
        session=session,
        kind=KIND,
        params=params,
        inputs_key=key,
        payload=payload,
        seconds=time.perf_counter() - start,
        rows=len(table),
        actor=actor,
        role=role,
    )
    return table, slices
