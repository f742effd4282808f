"""`wangge keys create|list|revoke`: the staff API keys (admins do the same over `/admin/keys`).

The database modules are imported inside the commands, so `wangge --help`
does not pay for SQLAlchemy and the table models.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from layers.core.roles import Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Staff API keys: create (shown once), list, revoke.", no_args_is_help=True)
ACTOR = "wangge keys"
"""How the CLI appears in the audit log (an operator at the server's console)."""


@contextmanager
def _session() -> Iterator[Session]:
    from geo_api.settings import Settings
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction

    engine = make_engine(resolve_database_url(Settings().db, start=True), pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _now() -> datetime:
    from layers.core.now import system_clock

    return system_clock()


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO time: {value!r}") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("--expires needs a time zone, e.g. 2027-06-30T18:00:00+08:00")
    return moment


@app.command()
def create(
    role: str = typer.Option(..., help="grid_worker, dispatcher, planner, admin (or resident)."),
    name: str = typer.Option(..., help="Whose key it is, e.g. '张三 (dispatch centre)'."),
    worker: int = typer.Option(None, help="The worker a grid_worker key stands for (worker id)."),
    expires: str = typer.Option(None, help="When the key stops working (ISO time with zone)."),
) -> None:
    """Create a key and print it once (last line); only its hash is stored."""
    from layers.tables.api_keys import issue_key

    with _session() as session:
        key, info = issue_key(
            session=session,
            role=role,
            name=name,
            now=_now(),
            actor=ACTOR,
            actor_role=Role.ADMIN,
            worker_id=worker,
            expires_at=_moment(expires),
        )
    typer.echo(f"key {info.id} ({info.role}, {info.name}) created; it is shown only now:", err=True)
    typer.echo(key)


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


@app.command("list")
def list_(
    all_: bool = typer.Option(False, "--all", help="Include revoked keys."),
) -> None:
    """The keys: id, prefix, role, name, worker, created, last used, expiry, state."""
    from layers.tables.api_keys import list_keys

    now = _now()
    with _session() as session:
        found = list_keys(session=session, include_revoked=all_)
    typer.echo(
        f"{'id':>5}  {'prefix':<10}  {'role':<11}  {'worker':>6}  {'created':<16}  "
        f"{'last used':<16}  {'expires':<16}  {'state':<7}  name"
    )
    for k in found:
        state = "revoked" if k.revoked_at else ("active" if k.active(now) else "expired")
        typer.echo(
            f"{k.id:>5}  {k.prefix:<10}  {k.role:<11}  {k.worker_id or '-':>6}  "
            f"{_when(k.created_at):<16}  {_when(k.last_used_at):<16}  {_when(k.expires_at):<16}  "
            f"{state:<7}  {k.name}"
        )


@app.command()
def revoke(
    key_id: int = typer.Argument(..., help="The key's id (see `wangge keys list`)."),
) -> None:
    """Revoke a key: it stops working at once, with every browser session opened with it."""
    from layers.tables.api_keys import revoke_key

    with _session() as session:
        info = revoke_key(
            session=session, key_id=key_id, now=_now(), actor=ACTOR, actor_role=Role.ADMIN
        )
    typer.echo(f"key {info.id} ({info.role}, {info.name}) revoked")
