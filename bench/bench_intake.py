"""HTTP `POST /incidents` under load with client retries: throughput, and nothing lost or doubled.

Every Idempotency-Key is sent twice (the second time as a client retry, often
concurrently on another connection).  Afterwards the database must hold exactly
one case per key that was sent, and no case without its key.  Baseline in the
same run: `GET /health` (one database round trip).  Target (issue 16 §4): >= 1,000
requests/s with p99 <= 50 ms at 16 connections.  Both runs are metered
(`bench/cpu_meter.py`): CPU ms per request of the server and of its database
backends, steadier than the rates on the shared machine.  The cases written are
deleted at the end.

    .venv/bin/python bench/bench_intake.py [--seconds 20] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import uuid

from cpu_meter import CpuMeter  # bench/cpu_meter.py, beside this script
from http_load import Server, skip_unless_ready, wrk  # bench/http_load.py, beside this script
from sqlalchemy import text

from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings

LUA = """
local prefix = "%s"
local counter = 0
local id = 0
local threads = {}
local points = {{104.1, 30.68}, {104.12, 30.69}, {104.08, 30.70}, {104.15, 30.66},
                {104.11, 30.72}, {104.13, 30.65}, {104.10, 30.70}, {104.14, 30.71}}
local categories = {"0102", "0404", "0503", "1001", "1102", "0201"}
function setup(thread)
  id = id + 1
  thread:set("tid", id)
end
function init(args)
  math.randomseed(tid * 7919)
end
request = function()
  counter = counter + 1
  local n = math.floor((counter + 1) / 2)
  local key = prefix .. "-" .. tid .. "-" .. n
  local p = points[(n %% #points) + 1]
  local body = '{"location":{"lon":' .. p[1] .. ',"lat":' .. p[2] ..
    '},"category":"' .. categories[(n %% #categories) + 1] ..
    '","channel":"resident_app","description":"' .. key .. ' bench case"}'
  return wrk.format("POST", "/incidents",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = key}, body)
end
"""


def count_and_delete(engine, prefix: str) -> tuple[int, int, int, int]:
    """Keys sent, keys with a case, cases, distinct cases named by keys; then the cases go."""
    with engine.begin() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM idempotency_keys WHERE key LIKE :p), "
                "(SELECT count(*) FROM idempotency_keys WHERE key LIKE :p "
                " AND incident_id IS NOT NULL), "
                "(SELECT count(*) FROM incidents WHERE description LIKE :p), "
                "(SELECT count(DISTINCT incident_id) FROM idempotency_keys WHERE key LIKE :p)"
            ),
            {"p": prefix + "-%"},
        ).one()
        conn.execute(text("DELETE FROM incidents WHERE description LIKE :p"), {"p": prefix + "-%"})
    engine.dispose()
    return tuple(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    skip_unless_ready(need_wrk=True)
    prefix = "bench" + uuid.uuid4().hex[:8]
    url = resolve_database_url(DatabaseSettings(), start=True)
    engine = make_engine(url, pool_size=1)
    server = Server(args.workers)
    meter = CpuMeter(server.proc.pid, url)
    try:
        server.wait()
        print(
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
            f"{args.workers} server workers, wrk -t1 -c{args.connections} -d{args.seconds}s"
        )
        before = meter.snapshot()
        base = wrk(server.url + "/health", seconds=args.seconds, connections=args.connections)
        base_cost = meter.cost(before, base.requests)
        before = meter.snapshot()
        load = wrk(
            server.url + "/",
            seconds=args.seconds,
            connections=args.connections,
            script=LUA % prefix,
        )
        load_cost = meter.cost(before, load.requests)
        print(f"load average after the runs {os.getloadavg()[0]:.2f}")
    finally:
        server.stop()
        meter.close()
    keys, linked, cases, ids = count_and_delete(engine, prefix)
    answered_keys = load.requests // 2
    lost = max(0, answered_keys - linked)
    doubled = cases - ids
    print(
        f"GET /health      {base.requests_per_s:8.0f} req/s  p50 {base.p50_ms:6.2f} ms  "
        f"p99 {base.p99_ms:6.2f} ms (baseline: one database round trip)"
    )
    print(
        f"POST /incidents  {load.requests_per_s:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  "
        f"p99 {load.p99_ms:6.2f} ms  non-2xx {load.non_2xx}, socket errors {load.errors}"
    )
    print(
        f"{load.requests:,} requests for {keys:,} keys: {cases:,} cases, "
        f"lost {lost}, doubled {doubled}, keys without a case {keys - linked}"
    )
    cores = os.cpu_count() or 1
    print(base_cost.line("GET /health", cores))
    print(load_cost.line("POST /incidents", cores))
    print(
        f"ratio POST /incidents vs GET /health: {load.requests_per_s / base.requests_per_s:.2f} "
        f"(target: >= 1,000 req/s with p99 <= 50 ms, 0 lost, 0 doubled)"
    )


if __name__ == "__main__":
    main()
