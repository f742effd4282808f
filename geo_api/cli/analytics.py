"""`wangge analytics run hotspots|trends|coverage`: batch analytics, on Dask if one is named."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from geo_api.settings import Settings
    from layers.analytics.batch_hotspots import BatchResult

app = typer.Typer(help="Batch analytics (Dask when WANGGE_DASK_SCHEDULER names one).")


class Analysis(StrEnum):
    """The analyses a batch run can compute."""

    hotspots = "hotspots"
    trends = "trends"
    coverage = "coverage"


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
    interval: str = typer.Option("month", help="trends: time slices, month or week."),
    export_dir: Path = typer.Option(
        None, help="Where the GeoParquet of the cases goes [default: $WANGGE_HOME/parquet]."
    ),
    city: bool = typer.Option(
        False,
        "--city",
        help="Say that a city is meant: refuse unless two or more districts are loaded "
        "(every run covers all loaded districts).",
    ),
) -> None:
    """Compute hotspots, emerging trends or camera coverage over every district; store them.

    hotspots: Gi* + FDR, analytic inference.  trends: the emerging hot spot
    outcomes per cell and month (or week).  coverage: every camera's visible
    ground (cameras in square tiles, each with a halo of buildings).

    With a scheduler, the cases are exported as GeoParquet (a file per month and
    district) and counted and analysed by the Dask workers; the answer is the
    in-process one (identical classes, z to 1e-9).  The result is written to the
    derived-layer cache under the query `GET /analytics/hotspots?permutations=0`
    asks for, so the API and the hotspot map (with WANGGE_ANALYTICS_PERMUTATIONS=0)
    show it.

    Example: `wangge analytics run hotspots --scheduler local:2`.  Progress: Dask's
    progress bar on stdout.
    """
    from geo_api.cli.scheduler_option import chosen_scheduler
    from geo_api.settings import Settings
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    settings = Settings()
    chosen = chosen_scheduler(scheduler, settings)
    res = resolution or settings.analytics.h3_resolution
    root = export_dir or settings.db.home / "parquet"
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            _say_districts(session, city)
            result = _run(analysis, session, settings, chosen, res, interval, root)
    finally:
        engine.dispose()
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    typer.echo(f"{analysis.value}: {result.cases:,} cases on {result.engine}; {steps}")


def _say_districts(session: Session, city: bool) -> None:
    """Name how many districts the run covers; with ``--city``, fewer than two is an error."""
    from sqlalchemy import text

    n = int(session.execute(text("SELECT count(*) FROM districts")).scalar_one())
    typer.echo(f"{n} district{'s' if n != 1 else ''} loaded: the run covers every one", err=True)
    if city and n < 2:
        typer.echo(
            "--city: only one district is loaded; load a city with `wangge demo load --city`",
            err=True,
        )
        raise typer.Exit(2)


def _run(
    analysis: Analysis,
    session: Session,
    settings: Settings,
    scheduler: str | None,
    resolution: int,
    interval: str,
    root: Path,
) -> BatchResult:
    """Run one analysis in the session's transaction, progress on stderr."""
    from layers.analytics.batch_coverage import run_coverage
    from layers.analytics.batch_hotspots import run_hotspots
    from layers.analytics.batch_trends import run_trends
    from layers.analytics.trends import TrendQuery
    from layers.core.map_types import HotspotQuery

    def say(message: str) -> None:
        typer.echo(message, err=True)

    if analysis == Analysis.coverage:
        return run_coverage(
            session=session, srid=settings.metric_srid, scheduler=scheduler, report=say
        )
    if analysis == Analysis.trends:
        query = TrendQuery(resolution=resolution, interval=interval)
        return run_trends(
            session=session, query=query, scheduler=scheduler, export_root=root, report=say
        )
    return run_hotspots(
        session=session,
        query=HotspotQuery(resolution=resolution, seed=settings.analytics.seed),
        scheduler=scheduler,
        export_root=root,
        report=say,
    )
