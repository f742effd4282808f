"""Benchmark: the SLA sweep escalating across the three levels and the departments, and a
department's queue page.

A fresh database gets the demo at `--scale` plus `--synthetic` open cases (copies of demo
cases' places and assignees, a fifth of them overdue, spread over the community / street levels, so the sweep moves them into
the next unit's queue with two notices each) and `--parts` department parts of which a
tenth have run over (the sweep tells each department once).  Printed beside a plain
indexed `SELECT` of the overdue set in the same run (the baseline: what the sweep must at
least read).  Targets: <= 5 s per sweep at full scale + 100,000; a department's queue
page over 1,000 parts p99 <= 100 ms.

    .venv/bin/python bench/bench_safety_sweep.py [--scale 1.0] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import event, text

from geo_api.migrate import upgrade
from grids.cases.access import Actor
from grids.cases.sla import MAX_ESCALATIONS, sweep
from grids.safety.boards import department_queue
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, load_demo
from layers.store.db import make_engine, make_sessionmaker, resolve_database_url
from layers.store.db_admin import create_database, drop_database
from layers.store.settings import DatabaseSettings

NOW = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
SWEEP_AT = NOW + timedelta(hours=1)
SYNTHETIC_SQL = """
INSERT INTO incidents (category_code, channel_code, status, description, geom, community_id,
  street_id, l1_cell_id, assignee_worker_id, handling_level, due_at, deadlines, created_at,
  updated_at)
SELECT '0102', 'hotline_96966', 'filed', 'bench ' || g, b.geom, b.community_id, b.street_id,
  b.l1_cell_id, b.assignee_worker_id,
  (ARRAY['grid', 'community', 'street'])[1 + g % 3], d.due, jsonb_build_object('dispatch',
  jsonb_build_object('started_at', :now, 'due_at', d.due, 'warn_at', d.due, 'clock',
  'continuous', 'amount', 60)), :now, :now
FROM generate_series(1, :n) g
CROSS JOIN LATERAL (SELECT CASE WHEN g % 5 = 0 THEN CAST(:now AS timestamptz) - interval '1 minute'
  ELSE CAST(:now AS timestamptz) + interval '3 days' END AS due) d
JOIN LATERAL (SELECT geom, community_id, street_id, l1_cell_id, assignee_worker_id FROM incidents
  WHERE community_id IS NOT NULL ORDER BY id OFFSET g % 500 LIMIT 1) b ON true
"""
PARTS_SQL = """
INSERT INTO case_transfers (incident_id, department_id, part, status, instruction, sent_by,
  sent_at, sign_due_at, due_at)
SELECT i.id, (SELECT id FROM departments WHERE code = 'cgj'), 'lead', 'sent', 'bench', 'bench',
  :now, :now, CASE WHEN row_number() OVER () % 10 = 0 THEN CAST(:at AS timestamptz)
  - interval '1 minute' ELSE CAST(:at AS timestamptz) + interval '5 days' END
FROM (SELECT id FROM incidents WHERE description LIKE 'bench %' AND due_at > :at
      ORDER BY id LIMIT :n) i
"""
OVERDUE_SQL = (
    "SELECT id FROM incidents WHERE status = ANY(:timed) AND due_at <= :at "
    "AND escalation_count < :max AND handling_level <> 'district'"
)


def _fill(engine, synthetic: int, parts: int) -> None:
    with engine.begin() as conn:
        conn.execute(text(SYNTHETIC_SQL), {"n": synthetic, "now": NOW})
        conn.execute(text(PARTS_SQL), {"n": parts, "now": NOW, "at": SWEEP_AT})
        conn.execute(text("ANALYZE incidents"))
        conn.execute(text("ANALYZE case_transfers"))


def _baseline(engine) -> tuple[float, int]:
    from layers.core.case_states import STEP_OF_STATUS

    with engine.connect() as conn:
        t = time.perf_counter()
        rows = conn.execute(
            text(OVERDUE_SQL),
            {"timed": list(STEP_OF_STATUS), "at": SWEEP_AT, "max": MAX_ESCALATIONS},
        ).all()
        return time.perf_counter() - t, len(rows)


def _statements(engine, spent: list[tuple[float, str]]) -> None:
    """Record each statement's time (the sweep's parts, printed after the first sweep)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn, cursor, statement, parameters, context, executemany) -> None:
        spent.append((time.perf_counter() - conn.info["t0"], " ".join(statement.split())[:70]))


def _sweep(sessions) -> tuple[float, object]:
    with sessions() as session:
        t = time.perf_counter()
        report = sweep(session=session, now=SWEEP_AT)
        session.commit()
        return time.perf_counter() - t, report


def _queue_p99(sessions, limit: int, rounds: int) -> tuple[float, float, int]:
    actor = Actor("bench", "dispatcher")
    times = []
    with sessions() as session:
        for n in range(rounds):
            t = time.perf_counter()
            page = department_queue(
                session=session,
                code="cgj",
                actor=actor,
                limit=limit,
                offset=(n * 50) % 1000,
                now=SWEEP_AT,
            )
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], page.total


def _build(url: str, args: argparse.Namespace):
    """The schema, the demo at `--scale`, the synthetic cases and parts."""
    upgrade(url)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    with TemporaryDirectory() as tmp, sessions() as session:
        load_demo(
            session=session,
            options=DemoOptions(scale=args.scale, now=NOW),
            keys_path=Path(tmp) / "keys.json",
            report=Progress(lambda _m: None),
        )
    _fill(engine, args.synthetic, args.parts)
    return engine, sessions


def main() -> None:
    """Build the database, run the baseline, two sweeps and the queue pages; print figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--parts", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    server = resolve_database_url(DatabaseSettings(), start=True)
    name = f"wangge_bench_safety_{os.getpid()}"
    drop_database(server, name)
    url = create_database(server, name)
    try:
        engine, sessions = _build(url, args)
        base_s, overdue = _baseline(engine)
        spent: list[tuple[float, str]] = []
        _statements(engine, spent)
        sweep_s, report = _sweep(sessions)
        parts = sorted(spent, reverse=True)[:5]
        again_s, again = _sweep(sessions)
        p50_50, p99_50, total = _queue_p99(sessions, 50, args.rounds)
        p50_all, p99_all, _ = _queue_p99(sessions, 1000, max(20, args.rounds // 4))
        with engine.connect() as conn:
            notices = conn.execute(text("SELECT count(*) FROM platform_notices")).scalar()
        engine.dispose()
    finally:
        drop_database(server, name)
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; demo scale "
        f"{args.scale} + {args.synthetic:,} synthetic open cases, {args.parts:,} parts"
    )
    print(f"plain SELECT of the overdue set: {overdue:,} rows in {base_s * 1000:.0f} ms (baseline)")
    print(
        f"sweep: {report.escalated:,} escalated, {report.warned:,} warned, "
        f"{report.departments_told:,} department parts told, {notices:,} notices "
        f"in {sweep_s:.2f} s (target <= 5 s); ratio vs baseline {sweep_s / base_s:.0f}x"
    )
    for seconds, statement in parts:
        print(f"  {seconds * 1000:7.0f} ms  {statement}")
    print(f"second sweep (idempotent): {again.escalated} escalated in {again_s:.2f} s")
    print(
        f"department queue ({total:,} open parts): page of 50 p50 {p50_50:.1f} ms p99 "
        f"{p99_50:.1f} ms; all 1,000 p50 {p50_all:.1f} ms p99 {p99_all:.1f} ms (target <= 100)"
    )
    print(
        json.dumps(
            {
                "bench": "safety_sweep",
                "baseline_s": base_s,
                "sweep_s": sweep_s,
                "escalated": report.escalated,
                "queue_p99_ms": p99_all,
            }
        )
    )


if __name__ == "__main__":
    main()
