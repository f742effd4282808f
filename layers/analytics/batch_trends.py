"""`wangge analytics run trends`: emerging trends on Dask or in-process, written to the cache.

Stored under the key `GET /analytics/trends` (and the trends map) looks up for
the same query and the same cases, so what the batch run computed is what they
show next — wherever it was computed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from layers.analytics import derived
from layers.analytics.batch_hotspots import BatchResult
from layers.analytics.case_parquet import export_cases
from layers.analytics.dask_scheduler import dask_client, describe
from layers.analytics.dask_trends import dask_trend_table
from layers.analytics.hotspots import case_points, inputs_key, study_cells
from layers.analytics.trends import KIND, TIMEZONE, TrendQuery, slice_edges, trend_table
from layers.core.errors import UnprocessableError


def in_process_trends(
    *, session: Session, query: TrendQuery
) -> tuple[pd.DataFrame, pd.DatetimeIndex, int]:
    """(table, slice edges, cases) computed here, as `trends.trends` does without its cache."""
    lon, lat, when = case_points(session=session, filters=query.filters)
    if len(when) == 0:
        raise UnprocessableError("no incidents match the filters", code="no_incidents")
    f = query.filters
    first = f.start.timestamp() if f.start else float(when.min())
    last = f.end.timestamp() - 1e-3 if f.end else float(when.max())
    edges = slice_edges(first, last, query.interval)
    area = study_cells(session=session, resolution=query.resolution)
    return trend_table(lon, lat, when, area, query, edges), edges, len(when)


def run_trends(
    *,
    session: Session,
    query: TrendQuery,
    scheduler: str | None,
    export_root: Path,
    report: Callable[[str], None] = lambda _m: None,
) -> BatchResult:
    """Emerging-hotspot outcomes of every case under `query`, stored in `derived_cache`."""
    engine = describe(scheduler)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    key = inputs_key(session=session)
    if scheduler:
        area = study_cells(session=session, resolution=query.resolution)
        export = export_cases(session=session, root=export_root, report=report)
        seconds["export"] = time.perf_counter() - started
        report(f"computing trends on {engine}: {len(export.files)} GeoParquet partitions")
        with dask_client(scheduler):
            table, edges = dask_trend_table(export.files, area, query)
        cases = export.rows
    else:
        table, edges, cases = in_process_trends(session=session, query=query)
    seconds["total"] = time.perf_counter() - started
    slices = [t.isoformat() for t in edges[:-1].tz_convert(TIMEZONE)]
    derived.store(
        session=session,
        kind=KIND,
        params=derived.params_key({"kind": KIND, **asdict(query)}),
        inputs_key=key,
        payload={"table": {c: table[c].tolist() for c in table.columns}, "slices": slices},
        seconds=seconds["total"],
        rows=len(table),
        actor="wangge analytics run",
    )
    hot = int(table["category"].str.endswith("hot spot").sum())
    report(f"{len(table):,} cells × {len(slices)} slices, {hot:,} with a hot-spot trend, stored")
    return BatchResult(table, engine, seconds, cases)
