"""Benchmark the rota coverage of every courtyard against a plain SELECT of the week's shifts.

Usage: ``python bench/bench_self_governance.py [--scale 0.05] [--shifts-per-courtyard 200]``

Builds its own database (migrated, demo loaded at ``--scale``; dropped at the end),
so it never touches the loaded district.  Measured in one run:
- the demo's self-governance generator (groups, members, a week's rota, organisations,
  offers), timed alone;
- coverage of every courtyard for one week (`range_agg` union of the shifts, clipped to
  the week, hours per courtyard) with the demo rota plus N synthetic overlapping shifts
  per courtyard (one member each, so the exclusion constraint holds), against the
  baselines an expert would write first: a plain indexed ``SELECT`` of the same week's
  shifts fetched to the client, and a ``GROUP BY`` sum of their hours (which counts
  overlaps twice, so it is fast and wrong);
- social-organisation density per community and per street.
Synthetic rows are written in a transaction that is rolled back.  The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from geo_api.migrate import upgrade
from grids.self_governance.coverage import week_window
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, load_demo
from layers.demo.self_governance import TABLES, write_self_governance
from layers.store.db import make_engine, make_sessionmaker, resolve_database_url
from layers.store.db_admin import create_database, drop_database
from layers.store.settings import DatabaseSettings
from layers.tables.courtyard_shifts import coverage
from layers.tables.social_organisations import density

SEED = 7
BASELINE_SQL = text(
    "SELECT courtyard_id, during FROM courtyard_shifts"
    " WHERE during && tstzrange(:start, :end, '[)')"
)
NAIVE_SQL = text(
    "SELECT courtyard_id, sum(extract(epoch FROM upper(during) - lower(during))) / 3600"
    " FROM courtyard_shifts WHERE during && tstzrange(:start, :end, '[)') GROUP BY courtyard_id"
)
"""The second baseline: hours summed per courtyard in SQL, overlaps counted twice (wrong)."""
SYNTHETIC_SQL = text(
    """
    WITH yard AS (SELECT id FROM courtyards),
    m AS (
      INSERT INTO courtyard_members (courtyard_id, role, name)
      SELECT y.id, 'volunteer', 'bench' FROM yard y, generate_series(1, :n)
      RETURNING id, courtyard_id)
    INSERT INTO courtyard_shifts (courtyard_id, member_id, during, created_by)
    SELECT m.courtyard_id, m.id,
           tstzrange(:start + (hashint4(m.id) & 1023) * interval '9 minutes',
                     :start + (hashint4(m.id) & 1023) * interval '9 minutes'
                            + interval '3 hours', '[)'),
           'bench'
    FROM m
    """
)


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of `repeat` runs and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--shifts-per-courtyard", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    server = resolve_database_url(DatabaseSettings(), start=True)
    name = f"wangge_bench_sg_{os.getpid()}"
    drop_database(server, name)
    url = create_database(server, name)
    engine = make_engine(url, pool_size=1)
    figures: dict[str, float] = {}
    now = datetime.now(UTC)
    lines: list[str] = []
    try:
        upgrade(url)
        with make_sessionmaker(engine)() as session, tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            load_demo(
                session=session,
                options=DemoOptions(seed=SEED, scale=args.scale, now=now),
                keys_path=Path(tmp) / "keys.json",
                report=Progress(lines.append),
            )
            figures["demo_load_s"] = time.perf_counter() - t0
        figures["demo_self_governance_in_load_s"] = _step_seconds(lines, "self-governance")
        with engine.connect() as conn, conn.begin() as tx:
            for table in reversed(TABLES):
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("DELETE FROM social_organisation_communities"))
            conn.execute(text("DELETE FROM social_organisation_courtyards"))
            t0 = time.perf_counter()
            write_self_governance(conn, seed=SEED, now=now)
            figures["demo_self_governance_s"] = time.perf_counter() - t0
            tx.rollback()
        figures.update(_measure(engine, now, args.shifts_per_courtyard, args.repeat))
    finally:
        engine.dispose()
        drop_database(server, name)
    _print(args, figures)


def _step_seconds(lines: list[str], marker: str) -> float:
    """Seconds between the load's progress line containing `marker` and the line before."""
    stamps = [float(line[1 : line.index("s]")]) for line in lines]
    i = next(n for n, line in enumerate(lines) if marker in line)
    return stamps[i] - stamps[i - 1]


def _measure(engine, now: datetime, per_yard: int, repeat: int) -> dict[str, float]:
    start, end = week_window(None, now)
    out: dict[str, float] = {}
    with make_sessionmaker(engine)() as session:
        session.execute(SYNTHETIC_SQL, {"n": per_yard, "start": start + timedelta(hours=1)})
        session.execute(text("ANALYZE courtyard_shifts"))
        params = {"start": start, "end": end}
        out["shifts"] = float(session.execute(BASELINE_SQL, params).rowcount or 0)
        out["baseline_select_s"], _ = best(
            lambda: session.execute(BASELINE_SQL, params).all(), repeat
        )
        out["naive_sum_s"], _ = best(lambda: session.execute(NAIVE_SQL, params).all(), repeat)
        out["coverage_s"], rows = best(
            lambda: coverage(session=session, start=start, end=end, now=now), repeat
        )
        out["courtyards"] = float(len(rows))  # type: ignore[arg-type]
        out["density_community_s"], _ = best(
            lambda: density(session=session, level="community"), repeat
        )
        out["density_street_s"], _ = best(lambda: density(session=session, level="street"), repeat)
        session.rollback()
    return out


def _print(args: argparse.Namespace, f: dict[str, float]) -> None:
    print(
        f"scale {args.scale}: demo load {f['demo_load_s']:.2f} s, of which self-governance "
        f"{f['demo_self_governance_in_load_s'] * 1000:.0f} ms (rerun after ANALYZE: "
        f"{f['demo_self_governance_s'] * 1000:.0f} ms)"
    )
    print(
        f"week coverage of {f['courtyards']:.0f} courtyards over {f['shifts']:.0f} shifts: "
        f"{f['coverage_s'] * 1000:.1f} ms (range_agg union)"
    )
    print(
        f"baseline plain SELECT of the week's shifts: {f['baseline_select_s'] * 1000:.1f} ms; "
        f"ratio {f['coverage_s'] / f['baseline_select_s']:.2f}x"
    )
    print(
        f"baseline GROUP BY sum of shift hours (overlaps counted twice): "
        f"{f['naive_sum_s'] * 1000:.1f} ms; ratio {f['coverage_s'] / f['naive_sum_s']:.2f}x"
    )
    print(
        f"density: per community {f['density_community_s'] * 1000:.1f} ms, per street "
        f"{f['density_street_s'] * 1000:.1f} ms"
    )
    print(json.dumps({"scale": args.scale, **{k: round(v, 5) for k, v in f.items()}}))


if __name__ == "__main__":
    main()
