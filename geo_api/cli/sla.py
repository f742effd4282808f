"""`wangge sla sweep`: warn and escalate overdue cases once (the server does it periodically)."""

from __future__ import annotations

from datetime import datetime

import typer

app = typer.Typer(help="Time limits of cases.", no_args_is_help=True)


@app.command()
def sweep(
    now: datetime = typer.Option(
        None, help="Sweep as of this moment (ISO, with zone) [default: now]."
    ),
) -> None:
    """Warn at 80 % of a step's limit, escalate one level at 100 % (idempotent)."""
    if now is not None and now.tzinfo is None:
        raise typer.BadParameter("--now needs a time zone, e.g. 2026-05-01T08:00:00+08:00")
    from geo_api.settings import Settings
    from grids.cases.sla import sweep as run_sweep
    from layers.core.now import system_clock
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    settings = Settings()
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            report = run_sweep(session=session, now=now or system_clock())
    finally:
        engine.dispose()
    if report.skipped:
        typer.echo("another sweep is running; nothing done")
        return
    typer.echo(
        f"SLA sweep: {report.warned} warned, {report.escalated} escalated, "
        f"{report.departments_told} department parts overdue"
    )
