"""The base-data centre: import rows/s per stage, matching quality, geocode q/s beside locate.

Against the loaded demo (`wangge demo load`, any scale): the department files
are generated from the database with their known truth
(`layers.demo.base_files`), then

1. **matching** — every police row's address through the matcher (exact →
   component → fuzzy) and, as the baseline, through a naive exact string match
   against the standard addresses (with the room); confusion counts, recall and
   precision at the level of the address and of the building;
2. **import** — every file of the district through `import_file`, in one
   transaction rolled back at the end (the bench leaves nothing behind):
   planning's addresses, market's units, housing's dwellings
   (`layers.demo.district_files`), the police (GB18030 CSV) and civil affairs
   (XLSX) persons; rows/s per stage per file, and the total of all files;
3. **geocode** — `geocode()` in process on messy queries, q/s and p99, beside
   `locate_one()` on the same entrances (the in-memory locate), same run;
4. **geocode over HTTP** — `wangge serve --workers 2` driven by wrk (one
   thread, `--connections`) with the police file's messy addresses on
   `GET /geocode`, beside `GET /locate` on the standard entrances, same run
   (skipped without wrk).

Targets (issue 13, full scale): recall ≥ 98 %, precision ≥ 99.5 %, import of
the full district ≤ 120 s, geocode ≥ 1,000 q/s with p99 ≤ 30 ms over HTTP.

    .venv/bin/python bench/bench_base_data.py [--fraction 0.2] [--queries 500] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import quote

import httpx
from http_load import free_port, wrk  # bench/http_load.py, beside this script
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.geocode import geocode
from grids.grid.locate import locate_one
from layers.base_data.files import mapped_rows, mapping_for, read_table
from layers.base_data.import_book import ImportBook
from layers.base_data.importing import import_file
from layers.base_data.person_batch import PERSON_COLUMNS, check_persons
from layers.demo.base_files import DepartmentFile, department_files
from layers.demo.district_files import district_files
from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings


def _confusion(said: list[int | None], truth: list[int | None]) -> Counter[str]:
    out: Counter[str] = Counter()
    for s, t in zip(said, truth, strict=True):
        if s is None:
            out["fn" if t is not None else "tn"] += 1
        else:
            out["tp" if s == t else "fp"] += 1
    return out


def _print_quality(name: str, c: Counter[str]) -> None:
    recall = c["tp"] / max(c["tp"] + c["fn"] + c["fp"], 1)
    precision = c["tp"] / max(c["tp"] + c["fp"], 1)
    print(
        f"  {name:<28} tp {c['tp']:>6} fp {c['fp']:>5} fn {c['fn']:>5} tn {c['tn']:>4}"
        f"  recall {recall:7.2%}  precision {precision:7.2%}"
    )


def _said(book: ImportBook, police: DepartmentFile, now) -> list[int | None]:
    """The address the import takes for each police row (`check_persons`), None if refused."""
    header, rows, _ = read_table(police.name, police.data)
    recs = mapped_rows(header, rows, mapping_for("police", "persons"))
    good, _ = check_persons(book, recs, now)
    said: list[int | None] = [None] * len(recs)
    for values in good:
        said[int(values[0]) - 2] = values[PERSON_COLUMNS.index("address_id")]
    return said


def matching(session: Session, police: DepartmentFile, rows: list[list[str]], now) -> None:
    """Matcher vs naive exact match, at address and building level."""
    book = ImportBook(session)
    building = dict(session.execute(text("SELECT id, building_id FROM addresses")).all())
    with_room = {
        f"{t}{room}室": a
        for a, t, room in session.execute(
            text(
                "SELECT a.id, a.full_text, w.room FROM dwellings w JOIN addresses a"
                " ON a.id = w.address_id"
            )
        ).all()
    }
    started = time.perf_counter()
    said = _said(book, police, now)
    seconds = time.perf_counter() - started
    naive = [with_room.get(r[3]) for r in rows]
    print(f"matching {len(rows):,} police rows ({len(rows) / seconds:,.0f} rows/s):")
    _print_quality("matcher, address", _confusion(said, police.truth))
    _print_quality(
        "matcher, building",
        _confusion(
            [building.get(s) if s else None for s in said],
            [building.get(t) if t else None for t in police.truth],
        ),
    )
    _print_quality("naive exact, address", _confusion(naive, police.truth))
    kinds = Counter(k for k, s, t in zip(police.mess, said, police.truth, strict=True) if s != t)
    print(f"  misses by kind of mess: {dict(kinds)}")


def importing(session: Session, files: dict[tuple[str, str], DepartmentFile], now) -> None:
    """Every file of the district through the import, one transaction; rows/s per stage; total.

    The order a district would take: addresses, units, dwellings, then persons.
    Rolled back at the end (the bench leaves nothing behind).
    """
    totals: Counter[str] = Counter()
    rows = 0
    print(f"import, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores:")
    for (source, base_class), f in files.items():
        result = import_file(
            session=session,
            source=source,
            base_class=base_class,
            name=f.name,
            data=f.data,
            actor="bench",
            role="admin",
            now=now,
            skip_rejects=True,
        )
        stages = "  ".join(
            f"{k} {result.rows / max(v, 1e-9):,.0f} rows/s" for k, v in result.stages.items()
        )
        total = sum(result.stages.values())
        totals.update(result.stages)
        rows += result.rows
        print(
            f"  {source} {base_class} ({result.encoding}, {result.rows:,} rows, {total:.2f} s):"
            f" {stages}"
        )
        print(
            f"    created {result.created:,}, merged {result.merged:,},"
            f" rejected {len(result.rejects):,}"
        )
    seconds = sum(totals.values())
    stages = "  ".join(
        f"{k} {v:.2f} s ({rows / max(v, 1e-9):,.0f} rows/s)" for k, v in totals.items()
    )
    print(f"  ALL {len(files)} files, {rows:,} rows, {seconds:.2f} s (target <= 120 s): {stages}")
    print(f"  load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    session.rollback()


def _rate(name: str, times: list[float]) -> float:
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    qps = len(times) / sum(times)
    print(
        f"  {name:<24} {qps:>9,.0f} q/s  p50 {times[len(times) // 2] * 1e3:6.2f} ms"
        f"  p99 {p99 * 1e3:6.2f} ms"
    )
    return qps


def geocoding(session: Session, rows: list[list[str]], queries: int) -> None:
    """geocode() on the police file's messy addresses beside locate_one() on their entrances."""
    qs = [r[3] for r in rows[:queries]]
    points = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM addresses ORDER BY id LIMIT :k"), {"k": queries}
    ).all()
    locate_one(session=session, lon=points[0][0], lat=points[0][1])  # warm the grid
    g_times, l_times = [], []
    for q in qs:
        t = time.perf_counter()
        geocode(session=session, q=q, limit=5)
        g_times.append(time.perf_counter() - t)
    for x, y in points:
        t = time.perf_counter()
        locate_one(session=session, lon=x, lat=y)
        l_times.append(time.perf_counter() - t)
    print(f"in process, one session, {len(qs):,} queries:")
    g = _rate("geocode (messy text)", g_times)
    lo = _rate("locate (baseline)", l_times)
    print(f"  ratio geocode / locate: {g / lo:.3f}")


_LUA = """
local paths = {%s}
local n = #paths
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(n)]) end
"""


def _serve(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`wangge serve --workers N` on a free port of this machine; the process and its URL."""
    port = free_port()
    env = {
        **os.environ,
        "WANGGE_DATABASE_URL": resolve_database_url(DatabaseSettings(), start=True),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo_api.cli",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(url + "/locate?lon=104.1&lat=30.68", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("wangge serve did not come up")


def http(session: Session, rows: list[list[str]], seconds: int, connections: int) -> None:
    """GET /geocode (messy texts) beside GET /locate (the entrances) under wrk, same server."""
    if shutil.which("wrk") is None:
        print("HTTP: skipped (no wrk)")
        return
    geo = [f"/geocode?q={quote(r[3])}&limit=5" for r in rows[:2000]]
    pts = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM addresses ORDER BY id LIMIT 2000")
    )
    loc = [f"/locate?lon={x:.7f}&lat={y:.7f}" for x, y in pts]
    session.rollback()  # the bench's own transaction must not hold locks the server needs
    proc, url = _serve(2)
    try:
        scripts = {
            name: _LUA % ",".join(f'"{p}"' for p in paths)
            for name, paths in (("geocode", geo), ("locate", loc))
        }
        for script in scripts.values():  # warm both workers' caches (address book, grid)
            wrk(url + "/", seconds=3, connections=connections, script=script)
        print(
            f"HTTP, wangge serve --workers 2, wrk -t1 -c{connections} -d{seconds}s, "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores:"
        )
        got = {
            n: wrk(url + "/", seconds=seconds, connections=connections, script=s)
            for n, s in scripts.items()
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for name, load in got.items():
        print(
            f"  GET /{name:<8} {load.requests_per_s:8,.0f} q/s  p50 {load.p50_ms:6.2f} ms  "
            f"p99 {load.p99_ms:6.2f} ms  non-2xx {load.non_2xx}, socket errors {load.errors}"
        )
    ratio = got["geocode"].requests_per_s / got["locate"].requests_per_s
    print(f"  ratio geocode / locate: {ratio:.3f}  (target: geocode >= 1,000 q/s, p99 <= 30 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fraction", type=float, default=0.2, help="Share of persons in the files."
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--seconds", type=int, default=10, help="wrk run per endpoint (0: no HTTP)."
    )
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    with Session(engine) as session:
        demo = session.execute(
            text("SELECT data FROM audit_log WHERE action = 'demo_load' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
        from datetime import datetime

        now = datetime.fromisoformat(demo["now"])
        started = time.perf_counter()
        files = department_files(
            session.connection(), seed=demo["seed"], now_year=now.year, fraction=args.fraction
        )
        print(
            f"demo scale {demo['scale']}, seed {demo['seed']}: files made in "
            f"{time.perf_counter() - started:.1f} s"
        )
        import csv
        import io

        police = files["police"]
        rows = list(csv.reader(io.StringIO(police.data.decode("gb18030"))))[1:]
        matching(session, police, rows, now)
        every = {
            **district_files(session.connection(), seed=demo["seed"], now_year=now.year),
            **{(source, "persons"): f for source, f in files.items()},
        }
        importing(session, every, now)
        geocoding(session, rows, args.queries)
        if args.seconds > 0:
            http(session, rows, args.seconds, args.connections)
    engine.dispose()


if __name__ == "__main__":
    main()
