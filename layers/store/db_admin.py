"""Create and drop whole databases on a server (tests, benchmarks, scratch copies)."""

from __future__ import annotations

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from layers.store.sql import quote_ident


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name`."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _maintenance(url: str, sql: str) -> None:
    engine = create_engine(
        with_database(url, "postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """CREATE DATABASE `name` (optionally a copy of `template`); returns its URL."""
    clause = f" TEMPLATE {quote_ident(template)}" if template else ""
    _maintenance(server_url, f"CREATE DATABASE {quote_ident(name)}{clause}")
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """DROP DATABASE `name` if it exists, disconnecting its sessions."""
    _maintenance(server_url, f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
