"""`wangge backup FILE` and `wangge restore FILE [--replace]`."""

from __future__ import annotations

from pathlib import Path

import typer


def _progress(message: str) -> None:
    typer.echo(message, err=True)


def backup(
    file: Path = typer.Argument(
        ...,
        help="Archive to write, e.g. wangge-2026-11-01.dump (replaced if it exists).",
        dir_okay=False,
    ),
) -> None:
    """Back up the whole database into one file (pg_dump custom format).

    The file holds the schema and every row: cases and their history, the grid and
    its revisions, the API keys (only their hashes, so existing keys keep working
    after a restore) and the derived layers' caches.  It does not hold roles or
    passwords ($WANGGE_HOME/cluster.json, demo-keys.json): keep those yourself.

    Uses the private cluster under $WANGGE_HOME, or WANGGE_DATABASE_URL; the
    server may keep running (pg_dump reads one consistent snapshot).  Prints each
    table as it goes.  Restore with `wangge restore FILE`.

    Example: `wangge backup /var/backups/wangge.dump`, then on a new machine
    `wangge restore /var/backups/wangge.dump` (add --replace over an existing one).
    """
    from geo_api.settings import Settings
    from layers.store.backup import backup as backup_database
    from layers.store.db import redact, resolve_database_url
    from layers.store.pg_binaries import find_pg_binaries

    settings = Settings()
    url = resolve_database_url(settings.db, start=True)
    report = backup_database(
        url=url, path=file, bins=find_pg_binaries(settings.db.pg_bindir), progress=_progress
    )
    typer.echo(
        f"backed up {report.tables} tables of {redact(url)} to {report.path} "
        f"({report.bytes / 1e6:.1f} MB) in {report.seconds:.1f} s"
    )


def restore(
    file: Path = typer.Argument(..., help="An archive written by `wangge backup`."),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Drop everything in the database first (in the same transaction as the restore).",
    ),
) -> None:
    """Restore a backup into the database, all or nothing.

    The target is the private cluster's database (created if needed) or
    WANGGE_DATABASE_URL's, which must be empty unless --replace is given.  The
    restore runs in one transaction: an unreadable or truncated archive, or any
    error, leaves the database exactly as it was.  Afterwards the tables are
    analysed and the server's role gets its rights (as `wangge migrate` grants
    them).  Stop `wangge serve` before replacing a database it is serving.
    """
    from geo_api.migrate import grant_service_role
    from geo_api.settings import Settings
    from layers.store.backup import restore as restore_database
    from layers.store.db import redact, resolve_database_url
    from layers.store.pg_binaries import find_pg_binaries

    settings = Settings()
    url = resolve_database_url(settings.db, start=True)
    report = restore_database(
        url=url,
        path=file,
        bins=find_pg_binaries(settings.db.pg_bindir),
        replace=replace,
        progress=_progress,
    )
    login = grant_service_role(url, settings.db)
    verb = "replaced the database with" if report.replaced else "restored"
    typer.echo(
        f"{verb} {report.tables} tables from {file} into {redact(url)} in {report.seconds:.1f} s"
        + (f"; the server connects as {login.role}" if login else "")
    )
