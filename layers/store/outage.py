"""Database outages: tell a lost database from a failed query, and log an outage once.

While PostgreSQL restarts, every request, the LISTEN thread and the SLA sweep
fail the same way.  A traceback per failure buried the one line that mattered
(a 36 s outage wrote 1,974 tracebacks, 51 MB of log), so an outage is logged
when it begins and when it ends, with the number of failures in between.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg2
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
"""admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections."""
QUERY_CANCELED = "57014"
"""A statement_timeout (or a cancel request) ended the query."""


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error (bare or wrapped by SQLAlchemy), if the server sent one."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "pgcode", None)


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached (down, restarting, connection lost).

    Client-side connection failures carry no SQLSTATE; the server's own refusals
    while it shuts down or starts up carry class 08 or 57P0x.  Works on
    SQLAlchemy's wrapped errors and on bare psycopg2 ones (a LISTEN connection).
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, psycopg2.Error):
        return False
    code = orig.pgcode
    if code is None:
        return isinstance(orig, psycopg2.OperationalError | psycopg2.InterfaceError)
    return code.startswith("08") or code in UNAVAILABLE_SQLSTATES


def is_query_canceled(exc: BaseException) -> bool:
    """True when a statement timeout (or a cancel) ended the query."""
    return isinstance(exc, DBAPIError | psycopg2.Error) and sqlstate(exc) == QUERY_CANCELED


def first_line(exc: BaseException) -> str:
    """The driver's first message line: enough to act on, no SQL, no parameters."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


class OutageLog:
    """One warning when the database goes away, one info line when it is back."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        self._log = log or logger
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0

    @property
    def down_now(self) -> bool:
        """True between the first failure of an outage and the next successful connection."""
        return self._since is not None

    def down(self, reason: str) -> None:
        """Note one failure; only the first of an outage is logged."""
        with self._lock:
            self._failures += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        self._log.warning(
            "database unavailable (%s): answering 503 until it is back; "
            "further failures are counted, not logged",
            reason,
        )

    def up(self) -> None:
        """Note a working connection; ends an outage (and logs it) if one was open."""
        with self._lock:
            if self._since is None:
                return
            seconds, failures = time.monotonic() - self._since, self._failures
            self._since, self._failures = None, 0
        self._log.info(
            "database available again after %.1f s (%d failed attempts)", seconds, failures
        )

    def watch(self, engine: Engine) -> None:
        """End outages when `engine` opens a new connection (the pool reconnects on its own)."""
        event.listen(engine, "connect", lambda *_: self.up())


def describe(exc: DBAPIError) -> str:
    """A failed statement in words that carry no values: class, SQLSTATE, table, constraint.

    The server's message and DETAIL may quote the row ("Failing row contains
    (…, 张三, 13812345678, …)"), and the parameters hold what a resident typed;
    neither belongs in a log.
    """
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    parts = [f"{type(orig).__name__} [SQLSTATE {sqlstate(exc) or '-'}]"]
    for label in ("table_name", "column_name", "constraint_name"):
        value = getattr(diag, label, None) if diag is not None else None
        if value:
            parts.append(f"{label.split('_')[0]} {value}")
    statement = " ".join(str(exc.statement or "").split())
    if statement:
        parts.append(f"statement: {statement[:300]}")
    return "; ".join(parts)
