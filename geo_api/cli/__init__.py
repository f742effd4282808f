"""The `wangge` command: one sub-command group per job, errors as clear messages.

Each command imports what it works with (the database, the app, geometry, maps)
inside its function: at module level those cost seconds, paid by every
`wangge --help`.  `tests/geo_api/test_cli_start.py` keeps it so.
"""

from __future__ import annotations

import logging
import sys

import typer

from geo_api.cli import (
    analytics,
    backup,
    base,
    cases,
    db,
    demo,
    keys,
    layers_io,
    maps,
    planning,
    serve,
    services,
    sla,
)
from layers.core.errors import WanggeError

app = typer.Typer(
    name="wangge",
    help=(
        "wangge (网格): spatial governance of a city district — the three-level grid, "
        "cases routed by location, maps.\n\n"
        "Without WANGGE_DATABASE_URL every command uses the private PostGIS cluster "
        "under $WANGGE_HOME (default ./.wangge), starting it when needed."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.command("migrate")(db.migrate)
app.add_typer(demo.app, name="demo")
app.add_typer(maps.app, name="maps")
app.command("serve")(serve.serve)
app.command("export")(layers_io.export)
app.command("import")(layers_io.import_)
app.add_typer(planning.app, name="planning")
app.add_typer(cases.app, name="incidents")
app.add_typer(sla.app, name="sla")
app.add_typer(services.app, name="services")
app.add_typer(keys.app, name="keys")
app.add_typer(base.app, name="base")
app.add_typer(analytics.app, name="analytics")
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)


def main() -> None:
    """Entry point: turn expected failures into `error: …` and a non-zero exit."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except WanggeError as exc:
        typer.secho(f"error: {exc.message}", fg="red", err=True)
        sys.exit(1 if exc.status_code >= 500 else 2)
