"""`wangge analytics run hotspots`: the batch analytics, on Dask when a scheduler is named."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(help="Batch analytics (Dask when WANGGE_DASK_SCHEDULER names one).")


class Analysis(StrEnum):
    """The analyses a batch run can compute."""

    hotspots = "hotspots"


@app.command()
def run(
    analysis: Analysis = typer.Argument(..., help="What to compute."),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        help="local:N (a LocalCluster of N processes), tcp://host:8786, or 'none' for "
        "in-process [default: WANGGE_DASK_SCHEDULER, else in-process].",
    ),
    resolution: int = typer.Option(None, min=5, max=12, help="H3 resolution [default: 9]."),
    export_dir: Path = typer.Option(
        None, help="Where the GeoParquet of the cases goes [default: $WANGGE_HOME/parquet]."
    ),
) -> None:
    """Compute hotspots (Gi* + FDR, analytic inference) over every case, store them for the maps.

    With a scheduler, the cases are exported as GeoParquet (a file per month and
    district) and counted and analysed by the Dask workers; the answer is the
    in-process one (identical classes, z to 1e-9).  The result is written to the
    derived-layer cache under the query `GET /analytics/hotspots?permutations=0`
    asks for, so the API and the hotspot map (with WANGGE_ANALYTICS_PERMUTATIONS=0)
    show it.

    Example: `wangge analytics run hotspots --scheduler local:2`.
    """
    from geo_api.settings import Settings
    from layers.analytics.batch_hotspots import run_hotspots
    from layers.core.map_types import HotspotQuery
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    settings = Settings()
    chosen = settings.dask.scheduler if scheduler is None else scheduler
    chosen = None if chosen in {None, "", "none"} else chosen
    query = HotspotQuery(
        resolution=resolution or settings.analytics.h3_resolution, seed=settings.analytics.seed
    )
    root = export_dir or settings.db.home / "parquet"
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            result = run_hotspots(
                session=session,
                query=query,
                scheduler=chosen,
                export_root=root,
                report=lambda m: typer.echo(m, err=True),
            )
    finally:
        engine.dispose()
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    typer.echo(f"{analysis.value}: {result.cases:,} cases on {result.engine}; {steps}")
