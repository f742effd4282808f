"""`wangge analytics run coverage`: every camera's view, tile by tile on Dask or in-process.

Written to `camera_views` (with its `derived_cache` entry) exactly as the
coverage report's own refresh writes it, so the coverage map, report and
`GET /analytics/coverage` read the batch run's views.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.analytics import coverage
from layers.analytics.batch_hotspots import BatchResult
from layers.analytics.dask_coverage import dask_visibility
from layers.analytics.dask_scheduler import dask_client, describe
from layers.analytics.visibility import visibility_polygons


def run_coverage(
    *,
    session: Session,
    srid: int,
    scheduler: str | None,
    report: Callable[[str], None] = lambda _m: None,
) -> BatchResult:
    """Recompute every camera's view (even when cached) and store them."""
    engine = describe(scheduler)
    started = time.perf_counter()
    report(f"computing camera views on {engine}")
    if scheduler:
        with dask_client(scheduler):
            coverage.refresh_views(
                session=session,
                srid=srid,
                views=dask_visibility,
                force=True,
                actor="wangge analytics run",
            )
    else:
        coverage.refresh_views(
            session=session,
            srid=srid,
            views=visibility_polygons,
            force=True,
            actor="wangge analytics run",
        )
    areas = session.execute(
        text("SELECT count(*) AS n, coalesce(sum(visible_area_m2), 0) AS a FROM camera_views")
    ).one()
    report(f"{areas.n:,} camera views, {areas.a / 1e6:,.2f} km² visible, stored")
    seconds = {"total": time.perf_counter() - started}
    return BatchResult(pd.DataFrame(), engine, seconds, int(areas.n))
