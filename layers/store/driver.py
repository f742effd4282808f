"""Under SQLAlchemy, typed: the psycopg2 connection (COPY, LISTEN, role DDL) and row counts.

SQLAlchemy types `dbapi_connection` as a generic DB-API connection (possibly None) and a
session's answer as a plain `Result`; these helpers narrow each once, so callers get
psycopg2's own methods (`copy_expert`, `as_string`) and `rowcount` without asserting.
"""

from __future__ import annotations

from typing import Any

import psycopg2.extensions
from sqlalchemy import Connection, CursorResult, Engine, Result


def psycopg_connection(conn: Connection) -> psycopg2.extensions.connection:
    """The psycopg2 connection `conn` runs on (same transaction, same session)."""
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg2.extensions.connection), "wangge runs on psycopg2"
    return raw


def detached_autocommit(engine: Engine) -> psycopg2.extensions.connection:
    """A psycopg2 connection of its own, out of the pool (which forgets it), in autocommit.

    For holders of session state (advisory locks, LISTEN) that must never be idle in a
    transaction nor be handed to anyone else.
    """
    raw = engine.raw_connection()
    dbapi = raw.driver_connection
    raw.detach()  # ours now: the pool forgets it
    assert isinstance(dbapi, psycopg2.extensions.connection), "wangge runs on psycopg2"
    dbapi.autocommit = True
    return dbapi


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE/INSERT touched: `Session.execute` types its answer as a plain
    `Result`, but for a statement it is the `CursorResult` that knows the count."""
    assert isinstance(result, CursorResult), "a DML statement answers with a cursor result"
    return result.rowcount
