"""`wangge analytics run hotspots`: export, compute on Dask or in-process, write the cache back.

Why through the derived-layer cache: the hotspot map and `GET /analytics/hotspots`
already read `derived_cache` under the query's key and the cases' digest; a
batch run that stores its table there under the same key is what they show
next, without knowing where it was computed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from layers.analytics import derived
from layers.analytics.case_parquet import export_cases
from layers.analytics.dask_hotspots import dask_hotspot_table
from layers.analytics.dask_scheduler import dask_client, describe
from layers.analytics.hotspots import (
    KIND,
    _jsonable,
    aggregate,
    case_points,
    hotspot_table,
    inputs_key,
    study_cells,
)
from layers.core.map_types import HotspotQuery


@dataclass(frozen=True)
class BatchResult:
    """What a run computed and where: the table, the engine, the seconds per step."""

    table: pd.DataFrame
    engine: str
    seconds: dict[str, float]
    cases: int


def run_hotspots(
    *,
    session: Session,
    query: HotspotQuery,
    scheduler: str | None,
    export_root: Path,
    report: Callable[[str], None] = lambda _m: None,
) -> BatchResult:
    """Hotspots of every case under `query` (analytic inference), stored in `derived_cache`."""
    query = replace(query, permutations=0, inference="analytic")
    engine = describe(scheduler)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    key = inputs_key(session=session)
    area = study_cells(session=session, resolution=query.resolution)
    if scheduler:
        export = export_cases(session=session, root=export_root, report=report)
        seconds["export"] = time.perf_counter() - started
        report(f"computing on {engine}: {len(export.files)} GeoParquet partitions")
        with dask_client(scheduler):
            table = dask_hotspot_table(export.files, area, query).drop(columns=["z_exact"])
        cases = export.rows
    else:
        lon, lat, _ = case_points(session=session, filters=query.filters)
        cells, counts, _ = aggregate(lon, lat, query.resolution, area)
        table = hotspot_table(counts, cells, query)
        cases = len(lon)
    seconds["total"] = time.perf_counter() - started
    derived.store(
        session=session,
        kind=KIND,
        params=derived.params_key({"kind": KIND, **asdict(query)}),
        inputs_key=key,
        payload={"table": _jsonable(table)},
        seconds=seconds["total"],
        rows=len(table),
        actor="wangge analytics run",
    )
    report(f"{len(table):,} cells, {int((table['gi_bin'] > 0).sum()):,} hot, stored")
    return BatchResult(table, engine, seconds, cases)
