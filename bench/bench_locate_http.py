"""HTTP `GET /locate` under load (wrk, same machine), against `GET /` measured in the same run.

Starts the service with 2 worker processes on the private cluster (demo
loaded), warms up, then runs wrk with random points inside the district.
Target: >= 1,500 requests/s with p99 < 20 ms on 2 cores.

    .venv/bin/python bench/bench_locate_http.py [--seconds 20] [--connections 16]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import shapely
from http_load import Server, skip_unless_ready, wrk  # bench/http_load.py, beside this script
from sqlalchemy import text

from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings

LUA = """
local points = {%s}
local n = #points
math.randomseed(7)
request = function()
  local p = points[math.random(n)]
  return wrk.format("GET", "/locate?lon=" .. p[1] .. "&lat=" .. p[2])
end
"""


def points_inside(n: int) -> list[tuple[float, float]]:
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    with engine.connect() as conn:
        district = shapely.from_wkb(
            bytes(conn.execute(text("SELECT ST_AsBinary(geom) FROM districts")).scalar())
        )
    engine.dispose()
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = district.bounds
    x, y = rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)
    keep = shapely.contains_xy(district, x, y)
    return list(zip(x[keep][:n], y[keep][:n], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    skip_unless_ready(need_wrk=True)
    pts = points_inside(5000)
    script = LUA % ",".join(f"{{{x:.7f},{y:.7f}}}" for x, y in pts)
    server = Server(args.workers)
    try:
        server.wait()
        wrk(server.url + "/", seconds=3, connections=args.connections, script=script)  # warm-up
        print(
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
            f"{args.workers} server workers, wrk -t1 -c{args.connections} -d{args.seconds}s"
        )
        base = wrk(server.url + "/", seconds=args.seconds, connections=args.connections)
        loc = wrk(
            server.url + "/", seconds=args.seconds, connections=args.connections, script=script
        )
    finally:
        server.stop()
    print(
        f"GET /        {base.requests_per_s:8.0f} req/s  p50 {base.p50_ms:6.2f} ms  "
        f"p99 {base.p99_ms:6.2f} ms (baseline: the landing document)"
    )
    print(
        f"GET /locate  {loc.requests_per_s:8.0f} req/s  p50 {loc.p50_ms:6.2f} ms  "
        f"p99 {loc.p99_ms:6.2f} ms  non-2xx {loc.non_2xx}, socket errors {loc.errors}"
    )
    print(
        f"ratio /locate vs /: {loc.requests_per_s / base.requests_per_s:.2f} "
        f"(target: >= 1500 req/s, p99 < 20 ms)"
    )


if __name__ == "__main__":
    main()
