"""The shared board reader's own connection: kept across reads, replaced when lost, given back.

Why it has one: at a saturated intake the reader waited in the request threads' line
for a pooled connection, and the boards' pushes with it.  What must hold with the
real database: consecutive reads use the same backend (no checkout per read), each
read is its own transaction, a read on a connection the database dropped fails and
the next read works on a fresh one, and releasing hands the connection back to the pool.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo_api.background.board_feed import OwnConnection


def _backend(session: Session) -> tuple[int, int]:
    row = session.execute(text("SELECT pg_backend_pid(), txid_current()")).one()
    return int(row[0]), int(row[1])


def _terminate(engine: Engine, pid: int) -> None:
    """End a backend from outside, as a database restart or an admin would."""
    with engine.connect() as c:
        c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            gone = c.execute(
                text("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :p)"),
                {"p": pid},
            ).scalar_one()
            if gone:
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} did not end")


def test_reader_keeps_its_connection_replaces_a_lost_one_and_gives_it_back(
    engine: Engine,
) -> None:
    own = OwnConnection(engine)
    held_before = engine.pool.checkedout()  # type: ignore[attr-defined]

    async def scenario() -> None:
        first_pid, first_tx = await own.read(_backend)
        again_pid, again_tx = await own.read(_backend)
        assert again_pid == first_pid  # the same connection, no checkout per read
        assert again_tx != first_tx  # but each read in its own transaction
        assert engine.pool.checkedout() == held_before + 1  # type: ignore[attr-defined]

        _terminate(engine, first_pid)
        with pytest.raises(DBAPIError):
            await own.read(_backend)
        fresh_pid, _ = await own.read(_backend)
        assert fresh_pid != first_pid

        await own.release()
        assert engine.pool.checkedout() == held_before  # type: ignore[attr-defined]

    try:
        asyncio.run(scenario())
    finally:
        own.close()
