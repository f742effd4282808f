"""The one way to reach the database: an engine, sessions, and the URL to use.

Every other module takes a `Session` (or `Connection`) as its first keyword-only
argument and never opens one itself; one use case is one transaction, opened by
the caller (`geo_api` per request, the CLI per command).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from layers.core.errors import DatabaseUnavailableError, InvalidInputError
from layers.store.cluster import PrivateCluster
from layers.store.service_role import service_login
from layers.store.settings import DatabaseSettings, SessionLimits

logger = logging.getLogger(__name__)


def resolve_database_url(settings: DatabaseSettings, *, start: bool = False) -> str:
    """The owner's URL: `WANGGE_DATABASE_URL`, else the private cluster's (started if asked)."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    cluster = PrivateCluster(settings)
    if start:
        message = cluster.start()
        logger.info("private cluster: %s", message)
    return cluster.url()


def resolve_service_url(settings: DatabaseSettings, *, start: bool = False) -> str:
    """The server's URL: its least-privilege role (see `layers.store.service_role.service_login`).

    Without a configured role (an external database and neither
    WANGGE_SERVICE_DATABASE_URL nor WANGGE_SERVICE_PASSWORD) the owner's URL is
    used, with a warning: the server then holds rights it does not need.
    """
    if settings.service_database_url:
        return normalise_url(settings.service_database_url)
    owner = resolve_database_url(settings, start=start)
    login = service_login(settings)
    if login is None or login.password is None:
        logger.warning(
            "no service role configured: the server connects as the database owner; "
            "set WANGGE_SERVICE_PASSWORD (and run `wangge migrate`) or WANGGE_SERVICE_DATABASE_URL"
        )
        return owner
    return (
        make_url(owner)
        .set(username=login.role, password=login.password)
        .render_as_string(hide_password=False)
    )


def normalise_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` too; we always talk through psycopg2."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidInputError(f"WANGGE_DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.drivername in {"postgres", "postgresql", "postgresql+psycopg2"}:
        return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    raise InvalidInputError(
        f"WANGGE_DATABASE_URL must be a PostgreSQL URL, not {parsed.drivername!r}",
        code="unsupported_database",
    )


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    application_name: str = "wangge",
    limits: SessionLimits | None = None,
    autocommit: bool = False,
) -> Engine:
    """An engine with pre-ping, so a restarted database does not break the next request.

    `hide_parameters`: a failed statement's parameters are what people typed
    (descriptions, names, phones, coordinates, idempotency keys); they must not
    reach a log or a traceback through the error's text.  `limits` (the
    server's) are set on every connection it opens; the CLI's bulk work has none.
    `autocommit`: every statement is its own transaction, set once per connection
    (switching a pooled connection's level per checkout costs two ``SET`` round
    trips); for hot paths that read or write in a single statement.
    """
    connect_args: dict[str, object] = {"application_name": application_name, "connect_timeout": 5}
    if limits is not None:
        connect_args["options"] = limits.options()
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        connect_args=connect_args,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects readable after commit (responses are built then)."""
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> str:
    """The PostGIS version, or `DatabaseUnavailableError` with a message a person can act on."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            version = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            ).scalar()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise DatabaseUnavailableError(
            f"cannot reach the database at {redact(str(engine.url.render_as_string(False)))}: "
            f"{reason}"
        ) from exc
    return version or "not installed (run `wangge migrate`)"


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def without_parallel_workers(session: Session) -> None:
    """Plan this transaction's queries without parallel workers.

    For interactive requests (a tile, a page of features) PostgreSQL sometimes
    picks a parallel scan whose workers take longer to start than the query takes
    to run: a z14 tile went from ~3 ms to ~9 ms that way on 2 cores.
    """
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
