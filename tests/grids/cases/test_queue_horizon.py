"""The dispatch queue reads only the months from the oldest open case on (migration 0033).

`incident_keys.open` follows every status change in the writer's own
transaction, and the queue bounds `created_at` by the oldest open case, so
PostgreSQL leaves the older monthly partitions unread while it runs the query.
Against a copy of the demo: the flags agree with the statuses, the plan of the
queue's own SQL skips the closed months, the page over HTTP still holds every
open case, and a case reopened in an old month brings its month back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.dispatch import _QUEUE_SQL, QueueFilter, queue_where
from layers.core.case_states import OPEN_STATUSES, STATUSES

NOW = datetime.fromisoformat("2026-12-01T08:00:00+00:00")
PART = re.compile(
    r" on (incidents_p\d{6}|incidents_default) \w+ \((never executed|actual rows=(\d+))"
)
OPEN_SQL = "status NOT IN ('void', 'closed', 'evaluated')"


def _scans(engine: Engine) -> dict[str, int | None]:
    """Each partition of the queue's plan: rows it gave, or None where it never ran."""
    with Session(engine) as session:
        where, params = queue_where(session, QueueFilter(), Actor("tester", "dispatcher"), NOW)
        plan = session.execute(
            text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + _QUEUE_SQL.format(where=where)),
            {**params, "limit": 50, "offset": 0},
        ).scalars()
        found = [PART.search(line) for line in plan]
    return {m[1]: (None if m[2] == "never executed" else int(m[3])) for m in found if m}


def _open_months(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT 'incidents_p' || to_char(created_at AT TIME ZONE 'UTC', 'YYYYMM')"
                f" FROM incidents WHERE {OPEN_SQL} ORDER BY 1"
            )
        ).scalars()
        return list(rows)


def test_the_open_flag_agrees_with_every_status(engine: Engine) -> None:
    with engine.connect() as conn:
        said = dict(
            conn.execute(
                text("SELECT s, wangge_case_is_open(s) FROM unnest(CAST(:s AS text[])) AS s"),
                {"s": list(STATUSES)},
            ).all()
        )
        flags = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE k.open IS DISTINCT FROM"
                f" (i.{OPEN_SQL})), count(*) FILTER (WHERE k.open) FROM incidents i"
                " JOIN incident_keys k ON k.id = i.id"
            )
        ).one()
    assert said == {s: s in OPEN_STATUSES for s in STATUSES}
    assert flags[0] == 0  # the migration's backfill and the triggers since
    assert flags[1] > 0


def _close_before(engine: Engine, month: str) -> int:
    """Close every open case received before `month` (a partition's name); how many."""
    with engine.begin() as conn:
        return conn.execute(
            text(
                f"UPDATE incidents SET status = 'closed' WHERE {OPEN_SQL}"
                " AND created_at < to_timestamp(:m, 'YYYYMM') AT TIME ZONE 'UTC'"
            ),
            {"m": month[-6:]},
        ).rowcount


def _set_status(engine: Engine, incident_id: int, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE incidents SET status = :s WHERE id = :i"), {"s": status, "i": incident_id}
        )


def test_the_queue_reads_from_the_oldest_open_month_on(engine: Engine, client, test_db) -> None:
    months = _open_months(engine)
    if len(months) > 2:  # the demo as loaded: open cases in every month, every month read
        assert all(_scans(engine)[m] is not None for m in months)
    horizon = months[-2]
    _close_before(engine, horizon)  # open cases in the last two months only
    with engine.connect() as conn:
        still_open = conn.execute(text(f"SELECT count(*) FROM incidents WHERE {OPEN_SQL}")).scalar()
    scans = _scans(engine)
    read = sorted(m for m, rows in scans.items() if rows)
    assert read == months[-2:], scans  # rows came from two partitions only
    skipped = [m for m in scans if m.startswith("incidents_p") and m < horizon]
    assert len(skipped) >= 3 and all(scans[m] is None for m in skipped), scans
    page = client.get("/dispatch/queue?limit=1", headers=test_db.headers("dispatcher"))
    assert page.status_code == 200
    assert page.json()["total"] == still_open  # every open case is still in the queue


def test_a_case_reopened_in_an_old_month_brings_its_month_back(
    engine: Engine, client, test_db
) -> None:
    _close_before(engine, _open_months(engine)[-2])
    with engine.connect() as conn:
        oldest = conn.execute(
            text("SELECT id, created_at FROM incidents ORDER BY created_at, id LIMIT 1")
        ).one()
    month = f"incidents_p{oldest.created_at.astimezone(UTC):%Y%m}"
    assert _scans(engine)[month] is None
    _set_status(engine, oldest.id, "rework")
    assert _scans(engine)[month] == 1  # read again, for its one open case
    page = client.get(
        "/dispatch/queue?status=rework&limit=500", headers=test_db.headers("dispatcher")
    )
    assert page.status_code == 200
    assert oldest.id in {item["id"] for item in page.json()["items"]}
    _set_status(engine, oldest.id, "closed")  # closed again: the horizon moves back up
    assert _scans(engine)[month] is None
