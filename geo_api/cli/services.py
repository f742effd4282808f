"""`wangge services send-reminders | expire-documents`: the service network's periodic work."""

from __future__ import annotations

from datetime import datetime

import typer

app = typer.Typer(help="The public service network.", no_args_is_help=True)

NOW = typer.Option(None, help="As of this moment (ISO, with zone) [default: now].")


def _now(now: datetime | None) -> datetime:
    if now is not None and now.tzinfo is None:
        raise typer.BadParameter("--now needs a time zone, e.g. 2026-05-01T08:00:00+08:00")
    from layers.core.now import system_clock

    return now or system_clock()


@app.command("send-reminders")
def send_reminders(now: datetime = NOW) -> None:
    """Hand the due outbox messages to the log sender (no SMS gateway is reachable here)."""
    from geo_api.settings import Settings
    from grids.services.outbox import LogSender, send_due
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    moment = _now(now)
    engine = make_engine(resolve_database_url(Settings().db, start=True), pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            report = send_due(session=session, sender=LogSender(), now=moment)
    finally:
        engine.dispose()
    typer.echo(f"outbox: {report['sent']} sent, {report['failed']} failed")


@app.command("expire-documents")
def expire_documents(now: datetime = NOW) -> None:
    """Delete the library documents past their retention period (rows marked, files removed)."""
    from geo_api.settings import Settings
    from grids.cases.access import Actor
    from grids.services.documents import expire_documents as expire
    from grids.services.documents import purge_files
    from layers.core.roles import SYSTEM, Role
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    settings = Settings()
    moment = _now(now)
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    maker = make_sessionmaker(engine)
    try:
        with transaction(maker) as session:
            shas = expire(session=session, actor=Actor(SYSTEM, Role.ADMIN), now=moment)
        with maker() as session:
            removed = purge_files(
                session=session, root=settings.services.media_root(settings.db.home), shas=shas
            )
    finally:
        engine.dispose()
    typer.echo(f"documents: {len(shas)} expired, {removed} files removed")
