"""A request's session closed after the database dropped its connection.

The session is closed after the answer has been sent.  When PostgreSQL went
away in between (a restart), the rollback in `close()` failed and surfaced as
an "unhandled error" traceback for a request that had been answered 200.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, text

from geo_api.deps import get_db
from layers.store.db import make_sessionmaker
from layers.store.outage import OutageLog


def test_a_session_whose_connection_was_killed_closes_quietly_and_counts_the_outage(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    outage = OutageLog()
    state = SimpleNamespace(sessionmaker=make_sessionmaker(engine), outage=outage)
    request = SimpleNamespace(app=SimpleNamespace(state=state))
    steps = get_db(request)  # type: ignore[arg-type]
    session = next(steps)
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # opens a transaction
    with engine.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    caplog.clear()
    with caplog.at_level(logging.INFO), pytest.raises(StopIteration):
        next(steps)  # the endpoint returned: the dependency closes the session
    assert outage.down_now, "the lost connection is counted as an outage"
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    with make_sessionmaker(engine)() as fresh:  # the pool hands out a working connection
        assert fresh.execute(text("SELECT 1")).scalar_one() == 1
