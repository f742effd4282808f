"""Request-scoped dependencies: the database session, the settings and "now"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo_api.settings import Settings
from layers.store.outage import first_line, is_unavailable


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; the endpoint commits its use case, errors roll back."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    except BaseException:
        _release(request, session.rollback)
        raise
    finally:
        _release(request, session.close)


def get_read_db(request: Request) -> Iterator[Session]:
    """A session for read-only work: on the replica while it is up and current.

    The connection is taken at once, so a replica that went away since the last
    check is found here and the request reads from the primary instead; one that
    dies mid-request is retried on the primary by `ReplicaFallbackRoute`.
    """
    router = request.app.state.read_router
    factory, on_replica = router.choose()
    session: Session = factory()
    if on_replica:
        try:
            session.connection()
        except DBAPIError as exc:
            if not is_unavailable(exc):
                raise
            router.mark_down(first_line(exc))
            session.close()
            session, on_replica = request.app.state.sessionmaker(), False
    request.state.read_replica = on_replica
    try:
        yield session
    except BaseException:
        _release_read(request, session.rollback)
        raise
    finally:
        _release_read(request, session.close)


def _release_read(request: Request, step: Callable[[], None]) -> None:
    """As `_release`, but a lost replica connection marks the replica down, not the primary."""
    if not getattr(request.state, "read_replica", False):
        _release(request, step)
        return
    try:
        step()
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        request.app.state.read_router.mark_down(first_line(exc))


@contextmanager
def autocommit_session(request: Request) -> Iterator[Session]:
    """A session on an autocommit connection, for hot paths that read or write in one statement.

    Why: psycopg2 opens a transaction with its own BEGIN round trip and the
    session ends it with a ROLLBACK or COMMIT; on the loaded 2-core machine each
    costs a millisecond.  The connections come from the app's second, autocommit
    engine (switching a pooled connection's level would cost two SETs instead).
    A single statement is atomic on its own, so a path whose only write is one
    statement (a booking) or that only reads loses nothing.
    Never use it for a use case that writes in more than one statement.
    """
    session: Session = request.app.state.autocommit_sessionmaker()
    try:
        yield session
    finally:
        _release(request, session.close)


def _release(request: Request, step: Callable[[], None]) -> None:
    """Roll back or close, counting a lost connection as part of the outage.

    The session is closed after the answer has gone out; if PostgreSQL went
    away in between, the rollback fails with nothing left to undo (the server
    dropped the transaction with the connection).  Raising then would turn a
    200 already sent into a logged "unhandled error" traceback.
    """
    try:
        step()
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        request.app.state.outage.down(first_line(exc))


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


async def get_now(request: Request) -> datetime:
    """The app's clock, read once per request (every step of a use case sees the same time).

    Async, so reading it costs no worker-thread hop on the hot routes.
    """
    return request.app.state.clock()


SessionDep = Annotated[Session, Depends(get_db)]
ReadSessionDep = Annotated[Session, Depends(get_read_db)]
"""Read-only routes only: nothing written through it (the replica refuses writes)."""
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
