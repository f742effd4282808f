"""HTTP `GET /geocode` beside `GET /locate` on one server, same run: wrk and a fixed rate.

Builds a database of its own with the demo (`--scale`, dropped at the end unless
`--keep`; `--reuse NAME` takes one kept before), starts uvicorn with 2 worker
processes on it (`bench/http_load.Server`, as `bench_locate_http.py`), and
drives it with the police file's messy addresses (`layers.demo.base_files`:
full-width digits, old road names, missing 单元, typos, ~2 % unmatchable) on
`/geocode`, and the entrances' points on `/locate`.  Two servers: the default
one (answers kept per normalised text) and one with
``WANGGE_GEOCODE_CACHE_SIZE=0`` (every answer made afresh), so the cache's
share is visible.  Target (issue 13): >= 1,000 q/s and p99 <= 30 ms.

    .venv/bin/python bench/bench_geocode.py [--scale 0.05] [--seconds 10] [--rate 1000]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
from datetime import UTC, datetime
from urllib.parse import quote

from bench_services import build_database  # bench/, beside this script
from fixed_rate import Paced, paced
from http_load import Load, Server, wrk
from sqlalchemy import text

from layers.demo.base_files import department_files
from layers.store.db import make_engine, resolve_database_url
from layers.store.db_admin import drop_database
from layers.store.settings import DatabaseSettings

_LUA = """
local paths = {%s}
local n = #paths
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(n)]) end
"""


def workload(url: str, n: int = 2000) -> tuple[list[str], list[str]]:
    """(geocode paths with the police file's messy addresses, locate paths at entrances)."""
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        files = department_files(conn, seed=7, now_year=2026, fraction=0.2)
        rows = list(csv.reader(io.StringIO(files["police"].data.decode("gb18030"))))[1:]
        pts = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM addresses ORDER BY id LIMIT :n"), {"n": n}
        ).all()
    engine.dispose()
    geo = [f"/geocode?q={quote(r[3])}&limit=5" for r in rows[:n]]
    return geo, [f"/locate?lon={x:.7f}&lat={y:.7f}" for x, y in pts]


def _script(paths: list[str]) -> str:
    return _LUA % ",".join(f'"{p}"' for p in paths)


def measure(
    url: str, args: argparse.Namespace, paths: dict[str, list[str]], cache: int
) -> dict[str, Load | Paced]:
    """On one server: warm both, wrk on each (closed loop), then geocode at a fixed rate."""
    env = {"WANGGE_DATABASE_URL": url, "WANGGE_GEOCODE_CACHE_SIZE": str(cache)}
    server = Server(args.workers, extra_env=env)
    out: dict[str, Load | Paced] = {}
    try:
        server.wait(timeout=900)  # a full-scale book and grid load per worker on a loaded machine
        for p in paths.values():  # warm both workers (address book, grid, contacts)
            wrk(server.url + "/", seconds=3, connections=args.connections, script=_script(p))
        for name, p in paths.items():
            out[name] = wrk(
                server.url + "/",
                seconds=args.seconds,
                connections=args.connections,
                script=_script(p),
            )
        for name in ("locate", "geocode"):  # the same offered rate on both
            p = paths[name]
            out["paced_" + name] = paced(
                server.url,
                rate=args.rate,
                seconds=args.seconds,
                pick=lambda i, p=p: ("GET", p[i % len(p)], b""),  # type: ignore[misc]
            )
    finally:
        server.stop()
    return out


def report(label: str, got: dict[str, Load | Paced], rate: float) -> None:
    """Print one server's figures and the geocode / locate ratio."""
    print(label)
    for name in ("locate", "geocode"):
        load = got[name]
        assert isinstance(load, Load)
        print(
            f"  GET /{name:<8} {load.requests_per_s:8,.0f} q/s  p50 {load.p50_ms:6.2f} ms  "
            f"p99 {load.p99_ms:6.2f} ms  non-2xx {load.non_2xx}, socket errors {load.errors}"
        )
    geo, loc, fixed = got["geocode"], got["locate"], got["paced_geocode"]
    assert isinstance(geo, Load) and isinstance(loc, Load) and isinstance(fixed, Paced)
    print(f"  ratio geocode / locate: {geo.requests_per_s / loc.requests_per_s:.2f}")
    base = got["paced_locate"]
    assert isinstance(base, Paced)
    print(base.line(f"  GET /locate at {rate:.0f}/s (open loop)"))
    print(fixed.line(f"  GET /geocode at {rate:.0f}/s (open loop)"), flush=True)
    met = geo.requests_per_s >= 1000 and fixed.p99_ms <= 30 and fixed.achieved_per_s >= 0.98 * rate
    print(f"  target >= 1,000 q/s, p99 <= 30 ms: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=1000.0, help="offered q/s, open loop")
    parser.add_argument("--reuse", help="a database kept by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    args = parser.parse_args()
    before = os.getloadavg()[0]
    server = resolve_database_url(DatabaseSettings(), start=True)
    url = server.rsplit("/", 1)[0] + "/" + args.reuse if args.reuse else build_database(args.scale)
    try:
        geo, loc = workload(url)
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {before:.2f} on "
            f"{os.cpu_count()} cores; {args.workers} uvicorn workers, wrk -t1 "
            f"-c{args.connections} -d{args.seconds}s, {len(geo)} distinct messy addresses, "
            f"{len(loc)} entrances",
            flush=True,
        )
        for label, size in (
            ("answers kept (WANGGE_GEOCODE_CACHE_SIZE=4096, the default)", 4096),
            ("every answer made afresh (WANGGE_GEOCODE_CACHE_SIZE=0)", 0),
        ):
            got = measure(url, args, {"locate": loc, "geocode": geo}, cache=size)
            report(f"{label}, load average now {os.getloadavg()[0]:.2f}:", got, args.rate)
    finally:
        if not (args.keep or args.reuse):
            drop_database(server, url.rsplit("/", 1)[1])


if __name__ == "__main__":
    main()
