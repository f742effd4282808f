"""Benchmark: loading the demo district, and COPY against row-by-row INSERT as the baseline.

Prints the wall time of `demo load` at full scale (budget: 3 minutes on 2 cores)
and at the tests' scale 0.05 (budget: 20 s), each split into generation and
database writing, then the speed-up of the COPY write path over executemany
INSERTs of the same level-3 cells, measured in the same run.

    .venv/bin/python bench/bench_demo.py [--scale 1.0] [--small 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import text

from geo_api.migrate import upgrade
from layers.demo import load as load_module
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, load_demo
from layers.store.copy import copy_rows
from layers.store.db import make_engine, make_sessionmaker, resolve_database_url
from layers.store.db_admin import create_database, drop_database
from layers.store.settings import DatabaseSettings

NOW = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


def timed_load(server: str, scale: float) -> dict[str, float]:
    """Load the demo at `scale` into a fresh database; seconds for generation, writing, total."""
    name = f"wangge_bench_demo_{os.getpid()}"
    drop_database(server, name)
    url = create_database(server, name)
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        phases: dict[str, float] = {}
        real_build, real_write = load_module.build_demo, load_module.write_demo

        def build(**kw):
            t = time.perf_counter()
            out = real_build(**kw)
            phases["generate_s"] = time.perf_counter() - t
            return out

        def write(conn, demo, report):
            t = time.perf_counter()
            out = real_write(conn, demo, report)
            phases["write_s"] = time.perf_counter() - t
            return out

        load_module.build_demo, load_module.write_demo = build, write
        try:
            with TemporaryDirectory() as tmp, make_sessionmaker(engine)() as session:
                t0 = time.perf_counter()
                load_demo(
                    session=session,
                    options=DemoOptions(scale=scale, now=NOW),
                    keys_path=Path(tmp) / "keys.json",
                    report=Progress(lambda _m: None),
                )
                phases["total_s"] = time.perf_counter() - t0
        finally:
            load_module.build_demo, load_module.write_demo = real_build, real_write
            engine.dispose()
        return phases
    finally:
        drop_database(server, name)


def copy_vs_insert(server: str, rows: int) -> tuple[float, float]:
    """Seconds to write `rows` level-3-like cells with COPY, and with executemany INSERT."""
    name = f"wangge_bench_copy_{os.getpid()}"
    drop_database(server, name)
    url = create_database(server, name)
    try:
        engine = make_engine(url, pool_size=1)
        ddl = "CREATE EXTENSION IF NOT EXISTS postgis; CREATE TABLE t (id int, code text, geom geometry(MultiPolygon, 4326))"
        wkt = "SRID=4326;MULTIPOLYGON(((104.1 30.6,104.1005 30.6,104.1005 30.6005,104.1 30.6005,104.1 30.6)))"
        data = [(i, f"{510108001001001000 + i}", wkt) for i in range(rows)]
        with engine.begin() as conn:
            conn.execute(text(ddl))
        with engine.begin() as conn:
            t = time.perf_counter()
            copy_rows(conn, "t", ("id", "code", "geom"), data)
            t_copy = time.perf_counter() - t
        with engine.begin() as conn:
            t = time.perf_counter()
            conn.execute(
                text("INSERT INTO t (id, code, geom) VALUES (:i, :c, :g)"),
                [{"i": i, "c": c, "g": g} for i, c, g in data],
            )
            t_insert = time.perf_counter() - t
        engine.dispose()
        return t_copy, t_insert
    finally:
        drop_database(server, name)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="full load scale [1.0]")
    parser.add_argument("--small", type=float, default=0.05, help="test scale [0.05]")
    parser.add_argument("--rows", type=int, default=17000, help="rows for COPY vs INSERT")
    args = parser.parse_args()
    server = resolve_database_url(DatabaseSettings(), start=True)
    full = timed_load(server, args.scale)
    small = timed_load(server, args.small)
    t_copy, t_insert = copy_vs_insert(server, args.rows)
    print(
        f"demo load, scale {args.scale}: {full['total_s']:.1f} s "
        f"(generate {full['generate_s']:.1f} s, write {full['write_s']:.1f} s; budget 180 s)"
    )
    print(
        f"demo load, scale {args.small}: {small['total_s']:.1f} s "
        f"(generate {small['generate_s']:.1f} s, write {small['write_s']:.1f} s; budget 20 s)"
    )
    print(
        f"write {args.rows:,} cells: COPY {t_copy:.2f} s, executemany INSERT {t_insert:.2f} s, "
        f"COPY is {t_insert / t_copy:.1f}x faster (baseline ratio, same run)"
    )
    print(
        json.dumps(
            {
                "bench": "demo",
                "full": full,
                "small": small,
                "copy_s": t_copy,
                "insert_s": t_insert,
                "copy_speedup": t_insert / t_copy,
            }
        )
    )


if __name__ == "__main__":
    main()
