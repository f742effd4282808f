"""`wangge incidents import FILE`: bulk import of historical cases."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(help="Cases (事件).", no_args_is_help=True)
STAGES = ("read", "validated", "located", "incidents written", "events written")


class InputCRS(StrEnum):
    """CRS of the file's coordinates."""

    wgs84 = "wgs84"
    cgcs2000 = "cgcs2000"
    gcj02 = "gcj02"
    bd09 = "bd09"


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="CSV with lon/lat, GeoJSON or GeoPackage."),
    crs: InputCRS = typer.Option(InputCRS.wgs84, help="CRS of the coordinates in the file."),
    rejects: Path = typer.Option(
        None,
        help="Where to write rejected rows (row, external_id, reason) [default: FILE.rejects.csv].",
    ),
    rebuild_indexes: bool = typer.Option(
        False,
        "--rebuild-indexes",
        help="Offline bulk load: build the incidents indexes once after the COPY (much faster "
        "for large files; the incidents table is locked until the import ends).",
    ),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        help="Locate the points of a large file (2 M or more) on Dask: local:N, "
        "tcp://host:8786, or 'none' [default: WANGGE_DASK_SCHEDULER, else in-process].",
    ),
) -> None:
    """Import historical cases; rows already imported (same external_id) are skipped."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from geo_api.cli.scheduler_option import chosen_scheduler
    from geo_api.settings import Settings
    from grids.cases.importing import import_cases
    from layers.core.now import system_clock
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    settings = Settings()
    chosen = chosen_scheduler(scheduler, settings)
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    rejects = rejects or file.with_name(file.name + ".rejects.csv")
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("reading", total=len(STAGES))

            def progress(stage: str, rows: int) -> None:
                bar.update(task, advance=1, description=f"{stage} ({rows:,} rows)")

            with transaction(make_sessionmaker(engine)) as session:
                report = import_cases(
                    session=session,
                    path=file,
                    crs=crs.value,
                    rejects_path=rejects,
                    tolerance_m=settings.cases.locate_tolerance_m,
                    progress=progress,
                    rebuild_indexes=rebuild_indexes,
                    now=system_clock(),
                    scheduler=chosen,
                )
    finally:
        engine.dispose()
    typer.echo(
        f"{report.read:,} rows read: {report.imported:,} imported, "
        f"{report.skipped_existing:,} already there, {report.rejected:,} rejected "
        f"({report.rejects_path}) in {report.seconds:.1f} s"
    )
