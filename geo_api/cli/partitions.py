"""`wangge db partitions list|create-ahead|detach`: the monthly partitions of the cases."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, time
from pathlib import Path

import typer

app = typer.Typer(
    help="Monthly partitions of incidents and incident_events (docs/storage.md).",
    no_args_is_help=True,
)


def _engine():
    from geo_api.settings import Settings
    from layers.store.db import make_engine, resolve_database_url

    settings = Settings()
    url = resolve_database_url(settings.db, start=True)
    return url, make_engine(url, pool_size=1)


@app.command("list")
def list_() -> None:
    """Each partition, its month and estimated rows."""
    from layers.store.partitions import partitions

    _url, engine = _engine()
    with engine.connect() as conn:
        for part in partitions(conn):
            month = f"{part.month:%Y-%m}" if part.month else "default"
            typer.echo(f"{part.table:<16} {part.name:<28} {month:<8} {part.rows:>10,}")
    engine.dispose()


@app.command("create-ahead")
def create_ahead(
    months: int = typer.Option(3, "--months", min=0, max=36, help="Months after this one."),
    at: str | None = typer.Option(
        None, "--from", help="YYYY-MM: start at that month instead of this one (UTC)."
    ),
) -> None:
    """Create this month's partitions and the next N months' (the SLA sweep does it too).

    Rows already in a DEFAULT partition for those months move into the new one.
    """
    from layers.store.partitions import create_ahead as make

    start = datetime.now(UTC) if at is None else datetime.combine(_month(at), time(), UTC)
    _url, engine = _engine()
    with engine.begin() as conn:
        made = make(conn, now=start, months=months)
    engine.dispose()
    typer.echo(f"created {len(made)} partitions" + (": " + ", ".join(made) if made else ""))


@app.command()
def detach(
    before: str = typer.Option(..., "--before", help="YYYY-MM: detach the months before it."),
    export: Path | None = typer.Option(
        None,
        "--export",
        file_okay=False,
        help="Write each detached table to DIR/<table>.dump (pg_dump custom format) "
        "and drop it from the database.",
    ),
) -> None:
    """Detach the monthly partitions older than --before (cases and their events).

    Without --export the detached months stay in the database as ordinary
    tables (`incidents_p202401` …) that no query of `incidents` reads; with
    --export each is dumped with pg_dump (restore with `pg_restore -d …`) and
    then dropped.  The cases' `incident_keys` rows stay, so ids and external
    ids are never reused.
    """
    from layers.store.partitions import detach_before

    month = _month(before)
    url, engine = _engine()
    with engine.begin() as conn:
        names = detach_before(conn, month)
    typer.echo(f"detached {len(names)} partitions" + (": " + ", ".join(names) if names else ""))
    if export is not None and names:
        export.mkdir(parents=True, exist_ok=True)
        for name in names:
            _dump(url, name, export / f"{name}.dump")
        with engine.begin() as conn:
            from sqlalchemy import text

            for name in names:
                conn.execute(text(f"DROP TABLE {name}"))
        typer.echo(f"exported and dropped {len(names)} tables into {export}")
    engine.dispose()


def _month(value: str) -> date:
    """`YYYY-MM`, or a usage error that says so (exit code 2, no traceback)."""
    from layers.store.partitions import parse_month

    try:
        return parse_month(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a month: expected YYYY-MM") from None


def _dump(url: str, table: str, path: Path) -> None:
    from geo_api.settings import Settings
    from layers.store.backup import libpq_target
    from layers.store.pg_binaries import find_pg_binaries

    bins = find_pg_binaries(Settings().db.pg_bindir)
    uri, env = libpq_target(url)
    command = [str(bins.client("pg_dump")), "-Fc", "-t", table, "-f", str(path), "-d", uri]
    subprocess.run(command, env=env, check=True, capture_output=True)
    typer.echo(f"  {table} -> {path} ({path.stat().st_size / 1e6:.2f} MB)")
