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


def write_cases(session: Session, path: Path, n: int, seed: int) -> None:
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
    seconds = rng.uniform(0, 300 * 86400, n)
    reported = pd.to_datetime(now - timedelta(days=300)) + pd.to_timedelta(seconds, unit="s")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", action="store_true", help="Commit the --rebuild-indexes import instead."
    )
    args = parser.parse_args()
    skip_unless_ready(need_wrk=False)
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.csv"
        with Session(engine) as session:
            write_cases(session, path, args.cases, args.seed)
            size = path.stat().st_size / 1e6
            print(
                f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
                f"{args.cases:,} cases, {size:.0f} MB CSV"
            )
            base = bare_copy(session, path)
            session.rollback()
        timings = {}
        for label, rebuild in (("online", False), ("--rebuild-indexes", True)):
            with Session(engine) as session:
                t = time.perf_counter()
                report = import_cases(
                    session=session,
                    path=path,
                    rejects_path=Path(tmp) / "r.csv",
                    rebuild_indexes=rebuild,
                    now=system_clock(),
                )
                timings[label] = (time.perf_counter() - t, report)
                if args.keep and rebuild:
                    session.commit()
                else:
                    session.rollback()
    engine.dispose()
    print(f"bare COPY into an unindexed table  {base:7.2f} s (baseline)")
    for label, (elapsed, report) in timings.items():
        print(
            f"wangge incidents import {label:<18} {elapsed:7.2f} s  "
            f"({report.imported:,} imported, {report.rejected:,} rejected, "
            f"{args.cases / elapsed:,.0f} cases/s, {elapsed / base:.1f}x bare COPY)"
        )
    print(
        "target: 1 M cases <= 30 s; online keeps the table open to case traffic, "
        "--rebuild-indexes locks it for the import (offline bulk loads)"
    )


if __name__ == "__main__":
    main()
