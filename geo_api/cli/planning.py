"""`wangge planning export|import REVISION FILE`: drafts as GeoPackages for QGIS."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from layers.core.roles import Role

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(
    help="Grid revisions: move drafts in and out as GeoPackages.", no_args_is_help=True
)


def _sessions() -> tuple[Engine, sessionmaker[Session]]:
    from geo_api.settings import Settings
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url

    settings = Settings()
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    return engine, make_sessionmaker(engine)


@app.command("export")
def export_draft(
    revision: int = typer.Argument(..., help="Revision id."),
    file: Path = typer.Argument(..., help="GeoPackage to write (replaced if present)."),
) -> None:
    """Write a revision's draft cells to a GeoPackage (layer `draft_cells`, EPSG:4326)."""
    from grids.planning.draft_files import export_geopackage
    from layers.store.db import transaction

    engine, factory = _sessions()
    try:
        with transaction(factory) as session:
            n = export_geopackage(session=session, revision_id=revision, path=file)
    finally:
        engine.dispose()
    typer.echo(f"revision {revision}: {n} cells written to {file}")


@app.command("import")
def import_draft(
    revision: int = typer.Argument(..., help="Revision id (a draft)."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoPackage to read."),
) -> None:
    """Replace a draft's cells with a GeoPackage's (all or nothing); validate afterwards."""
    from grids.planning.draft_files import import_geopackage
    from layers.store.db import transaction

    engine, factory = _sessions()
    actor = f"cli:{getpass.getuser()}"
    try:
        with transaction(factory) as session:
            n = import_geopackage(
                session=session, revision_id=revision, path=file, actor=actor, role=Role.PLANNER
            )
    finally:
        engine.dispose()
    typer.echo(f"revision {revision}: {n} cells imported from {file}")
