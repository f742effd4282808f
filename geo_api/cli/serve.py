"""`wangge serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import os

import typer


def serve(
    host: str = typer.Option(None, help="Address to bind [default: WANGGE_HOST or 127.0.0.1]."),
    port: int = typer.Option(None, help="Port to bind [default: WANGGE_PORT or 8000]."),
    workers: int = typer.Option(None, help="Worker processes [default: WANGGE_WORKERS or 1]."),
) -> None:
    """Serve the API (OpenAPI docs at /docs); starts the private cluster if needed.

    Connects as the least-privilege service role.  SIGTERM or Ctrl-C stops it:
    running requests get WANGGE_SHUTDOWN_GRACE_S (10 s) to finish.
    """
    from geo_api.app import create_app
    from geo_api.cli import graceful
    from geo_api.cli.banner import banner
    from geo_api.settings import Settings
    from layers.core.errors import DatabaseUnavailableError
    from layers.store.db import check_connection, make_engine, resolve_service_url

    settings = Settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    database_url = resolve_service_url(settings.db, start=True)
    engine = make_engine(database_url, pool_size=1)
    try:
        check_connection(engine)
    except DatabaseUnavailableError as exc:
        raise DatabaseUnavailableError(
            f"{exc.message} (has `wangge migrate` created the server's role?)"
        ) from exc
    finally:
        engine.dispose()
    # Workers are separate processes: hand them the resolved URL and the bind address.
    os.environ["WANGGE_SERVICE_DATABASE_URL"] = database_url
    os.environ["WANGGE_HOST"] = host
    os.environ["WANGGE_PORT"] = str(port)
    os.environ.setdefault("WANGGE_SLA_SWEEP_SECONDS", "60")  # the periodic SLA sweep
    served = Settings()
    typer.echo(
        banner(create_app(served), served.base_url(), served.db.home.absolute() / "demo-keys.json")
    )
    config = graceful.graceful_config(
        "geo_api.app:create_app",
        grace_s=served.shutdown_grace_s,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )
    graceful.run(config, served.shutdown_grace_s)
