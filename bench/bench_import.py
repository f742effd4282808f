"""Bulk import of historical cases (`wangge incidents import`) vs a bare COPY of the same file.

Writes a CSV of N cases inside the demo district (reported over the last 300
days), imports it with `grids.cases.importing.import_cases` in one transaction
(read, validate, batch-locate in the grid of each case's day, COPY incidents
and events), then rolls back so the database is left as it was.  Baseline in
the same run: COPY of the same CSV into an unindexed temporary table.
Target: 1,000,000 cases in <= 30 s.

    .venv/bin/python bench/bench_import.py [--cases 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from http_load import skip_unless_ready  # bench/http_load.py, beside this script
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.importing import import_cases
from layers.core.now import system_clock
from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings

CATEGORIES = ["0101", "0102", "0201", "0302", "0404", "0503", "1001", "1102", "1201", "1302"]
CHANNELS = ["hotline_96966", "hotline_12345", "wechat", "handheld", "resident_app"]


def write_cases(session: Session, path: Path, n: int, seed: int, *, history: bool) -> None:
    """N cases inside the district: the last 300 days, or (`history`) the 36 months before
    the oldest case in the database (months that have no partition yet)."""
    rng = np.random.default_rng(seed)
    district = shapely.from_wkb(
        bytes(session.execute(text("SELECT ST_AsBinary(geom) FROM districts")).scalar())
    )
    minx, miny, maxx, maxy = district.bounds
    xs, ys = np.zeros(0), np.zeros(0)
    while len(xs) < n:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        inside = shapely.contains_xy(district, x, y)
        xs, ys = np.r_[xs, x[inside]], np.r_[ys, y[inside]]
    xs, ys = xs[:n], ys[:n]
    now = datetime.now(UTC)
    span = timedelta(days=300)
    if history:
        oldest = session.execute(text("SELECT min(created_at) FROM incidents")).scalar() or now
        now = oldest.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        span = now - now.replace(year=now.year - 3)
    seconds = rng.uniform(0, span.total_seconds() - 1, n)
    reported = pd.to_datetime(now - span) + pd.to_timedelta(seconds, unit="s")
    run = uuid.uuid4().hex[:6]
    pd.DataFrame(
        {
            "external_id": [f"HIST-{run}-{i:07d}" for i in range(n)],
            "category": rng.choice(CATEGORIES, n),
            "channel": rng.choice(CHANNELS, n),
            "status": np.where(rng.random(n) < 0.95, "closed", "in_progress"),
            "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "lon": np.round(xs, 7),
            "lat": np.round(ys, 7),
            "description": "历史事件",
        }
    ).to_csv(path, index=False)


def bare_copy(session: Session, path: Path) -> float:
    conn = session.connection()
    conn.execute(
        text(
            "CREATE TEMP TABLE bench_raw (external_id text, category text, channel text, "
            "status text, reported_at text, lon float8, lat float8, description text)"
        )
    )
    raw = conn.connection.dbapi_connection
    t = time.perf_counter()
    with raw.cursor() as cur, path.open(encoding="utf-8") as fh:
        cur.copy_expert("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
    return time.perf_counter() - t


def _stages(label: str, started: float):
    """Print each stage's end time: where the import's seconds go."""

    def note(stage: str, rows: int) -> None:
        print(f"  {label:<18} {time.perf_counter() - started:6.2f} s  {stage} ({rows:,})")

    return note


RUNS = {
    "history (new months)": (True, False),
    "into months with cases": (False, False),
}
"""label: (cases in months without a partition, --rebuild-indexes)"""


def _import(engine, path: Path, label: str, rebuild: bool, keep: bool) -> tuple[float, object]:
    with Session(engine) as session:
        t = time.perf_counter()
        report = import_cases(
            progress=_stages(label, t),
            session=session,
            path=path,
            rejects_path=path.with_suffix(".rejects.csv"),
            rebuild_indexes=rebuild,
            now=system_clock(),
        )
        elapsed = time.perf_counter() - t
        session.commit() if keep else session.rollback()
    return elapsed, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=sorted(RUNS), help="One run, not both.")
    parser.add_argument(
        "--rebuild-indexes", action="store_true", help="Also the offline variant of each run."
    )
    parser.add_argument("--keep", action="store_true", help="Commit the imports (default: undo).")
    args = parser.parse_args()
    skip_unless_ready(need_wrk=False)
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, (history, _) in RUNS.items():
            if args.only and label != args.only:
                continue
            path = Path(tmp) / f"cases-{history}.csv"
            with Session(engine) as session:
                write_cases(session, path, args.cases, args.seed, history=history)
                base = bare_copy(session, path)
                session.rollback()
            print(
                f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {label}: "
                f"{args.cases:,} cases, {path.stat().st_size / 1e6:.0f} MB CSV; "
                f"bare COPY into an unindexed table {base:.2f} s"
            )
            for rebuild in (False, True) if args.rebuild_indexes else (False,):
                name = label + (" --rebuild-indexes" if rebuild else "")
                elapsed, report = _import(engine, path, name, rebuild, args.keep)
                timings[name] = (elapsed, report, base)
    engine.dispose()
    for label, (elapsed, report, base) in timings.items():
        print(
            f"wangge incidents import, {label:<40} {elapsed:7.2f} s  "
            f"({report.imported:,} imported, {report.rejected:,} rejected, "
            f"{args.cases / elapsed:,.0f} cases/s, {elapsed / base:.1f}x bare COPY {base:.2f} s)"
        )
    print(f"load average {os.getloadavg()[0]:.2f}; target: 1 M cases <= 20 s, online")


if __name__ == "__main__":
    main()
