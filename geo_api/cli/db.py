"""`wangge db start|stop|status|url` and `wangge migrate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from geo_api.cli import partitions

if TYPE_CHECKING:
    from geo_api.settings import Settings

app = typer.Typer(
    help="Manage the private PostgreSQL + PostGIS cluster under $WANGGE_HOME.",
    no_args_is_help=True,
)
app.add_typer(partitions.app, name="partitions")


def _settings() -> Settings:
    from geo_api.settings import Settings

    return Settings()


def _external(settings: Settings) -> bool:
    from layers.store.db import redact

    if settings.db.database_url:
        typer.echo(
            "WANGGE_DATABASE_URL is set: using that database "
            f"({redact(settings.db.database_url)}); the private cluster is not used."
        )
        return True
    return False


@app.command()
def start(
    replica: bool = typer.Option(
        False,
        "--replica",
        help="Also start a streaming-replication hot standby under $WANGGE_HOME/replica "
        "(made by pg_basebackup the first time); `wangge serve` then reads there.",
    ),
) -> None:
    """Create (initdb, first time only) and start the private cluster; a no-op if running.

    With --replica the standby starts too; the server's read-only faces (OGC
    pages and tiles, the public maps) read from it while it is up and no more
    than WANGGE_REPLICA_MAX_LAG_S behind, and from the primary otherwise.
    """
    from layers.store.cluster import PrivateCluster
    from layers.store.replica import ReplicaCluster

    settings = _settings()
    if _external(settings):
        return
    primary = PrivateCluster(settings.db)
    typer.echo(primary.start())
    standby = ReplicaCluster(primary)
    if replica or standby.exists():
        typer.echo(standby.start())


@app.command()
def stop(
    replica: bool = typer.Option(
        False, "--replica", help="Stop only the replica (reads move to the primary)."
    ),
    drop_replica: bool = typer.Option(
        False, "--drop-replica", help="Stop the replica and delete it (no more replica reads)."
    ),
) -> None:
    """Stop the private cluster and its replica (fast shutdown); a no-op if not running."""
    from layers.store.cluster import PrivateCluster
    from layers.store.replica import ReplicaCluster

    settings = _settings()
    if _external(settings):
        return
    primary = PrivateCluster(settings.db)
    standby = ReplicaCluster(primary)
    if drop_replica:
        typer.echo(standby.drop())
        return
    if standby.exists():
        typer.echo(standby.stop())
    if not replica:
        typer.echo(primary.stop())


@app.command()
def status() -> None:
    """Say whether the cluster runs, where, and on which port (exit 3 when stopped)."""
    from layers.store.cluster import PrivateCluster
    from layers.store.db import check_connection, make_engine, resolve_database_url

    settings = _settings()
    if _external(settings):
        engine = make_engine(resolve_database_url(settings.db), pool_size=1)
        try:
            typer.echo(f"reachable; PostGIS {check_connection(engine)}")
        finally:
            engine.dispose()
        return
    cluster = PrivateCluster(settings.db)
    typer.echo(cluster.status())
    from layers.store.replica import ReplicaCluster

    standby = ReplicaCluster(cluster)
    if standby.exists():
        typer.echo(standby.status())
    if not cluster.is_running():
        raise typer.Exit(3)


@app.command()
def url(
    show_password: bool = typer.Option(
        False, "--show-password", help="Print the password too (it is *** otherwise)."
    ),
    service: bool = typer.Option(
        False, "--service", help="The server's URL (its least-privilege role), not the owner's."
    ),
    replica: bool = typer.Option(False, "--replica", help="The replica's URL, not the primary's."),
) -> None:
    """Print the SQLAlchemy URL of the database (the owner's) on the last line."""
    from layers.store.db import redact, resolve_database_url, resolve_service_url

    settings = _settings()
    found = resolve_service_url(settings.db) if service else resolve_database_url(settings.db)
    if replica:
        from layers.store.read_routing import replica_url

        found = replica_url(settings.db, found)
    typer.echo(found if show_password else redact(found))


def migrate() -> None:
    """Upgrade the schema (as the owner), then create and grant the server's role.

    The server's role may read and write rows but not change the schema; its
    rights on tables added later come from default privileges.
    """
    from geo_api.migrate import grant_service_role, upgrade
    from layers.store.db import check_connection, make_engine, redact, resolve_database_url

    settings = _settings()
    database_url = resolve_database_url(settings.db, start=True)
    engine = make_engine(database_url, pool_size=1)
    try:
        check_connection(engine)
    finally:
        engine.dispose()
    upgrade(database_url)
    login = grant_service_role(database_url, settings.db)
    typer.echo(f"schema up to date ({redact(database_url)})")
    if login is None:
        typer.secho(
            "warning: no service role: the server would connect as the owner; set "
            "WANGGE_SERVICE_PASSWORD (this command then creates the role "
            f"{settings.db.service_role}) or WANGGE_SERVICE_DATABASE_URL",
            fg="yellow",
            err=True,
        )
    else:
        typer.echo(f"the server connects as {login.role} (rows only, no DDL)")
