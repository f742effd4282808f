"""Position ingest: `POST /workers/me/positions` in batches, at a fixed offered rate, vs one by one.

K grid workers (a key each, made through `POST /admin/keys`) report their positions
as the handheld does: each request a batch of B fixes (``age_s``), request i from
worker i mod K, sent on a schedule (open loop, latency from each request's due
time).  Baseline in the same run: the same request rate with one fix per request,
so the ratio shows what batching buys.  Afterwards the track table must hold every
fix sent.  Target (issue 11 §7): ≥ 2,000 positions/s (a city's 36,000 workers every
30 s is 1,200/s).

    .venv/bin/python bench/bench_positions.py [--batch 100] [--rate 25,50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random

import httpx
from board_db import demo_database  # bench/board_db.py, beside this script
from fixed_rate import paced
from http_load import Server
from sqlalchemy import text

from layers.store.db import make_engine


def worker_keys(url: str, db_url: str, admin: str, k: int) -> list[str]:
    """A grid-worker key for each of the first `k` level-1 workers."""
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as c:
        ids = list(
            c.execute(
                text("SELECT id FROM workers WHERE level = 1 ORDER BY id LIMIT :k"), {"k": k}
            ).scalars()
        )
    engine.dispose()
    out = []
    for wid in ids:
        made = httpx.post(
            f"{url}/admin/keys",
            json={"role": "grid_worker", "name": f"bench worker {wid}", "worker_id": wid},
            headers={"Authorization": f"Bearer {admin}"},
        )
        made.raise_for_status()
        out.append(made.json()["key"])
    return out


def stored(db_url: str) -> int:
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as c:
        n = int(c.execute(text("SELECT count(*) FROM worker_positions")).scalar() or 0)
    engine.dispose()
    return n


def bodies(batch: int, n: int = 64) -> list[bytes]:
    """`n` different batches of `batch` fixes around the district, ages 0…batch−1 s."""
    rng = random.Random(batch)
    return [
        json.dumps(
            {
                "positions": [
                    {
                        "lon": round(104.08 + rng.uniform(-0.04, 0.04), 6),
                        "lat": round(30.68 + rng.uniform(-0.03, 0.03), 6),
                        "age_s": float(batch - j),
                        "accuracy_m": 12.0,
                    }
                    for j in range(batch)
                ]
            }
        ).encode()
        for _ in range(n)
    ]


def measure(url: str, db_url: str, keys: list[str], batch: int, rate: float, seconds: float):
    """Requests at `rate`/s of `batch` fixes each: (the run, positions stored per second)."""
    auth = [f"Authorization: Bearer {k}\r\n" for k in keys]
    payloads = bodies(batch)
    before = stored(db_url)

    def pick(i: int):
        return ("POST", "/workers/me/positions", payloads[i % len(payloads)], auth[i % len(auth)])

    run = paced(url, rate=rate, seconds=seconds, pick=pick, connections=16)
    got = stored(db_url) - before
    return run, got, got / seconds, int(rate * seconds) * batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--workers-k", type=int, default=100, help="grid workers reporting")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rate", type=lambda v: [float(x) for x in v.split(",")], default=[25, 50])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    before = os.getloadavg()
    rows = []
    with demo_database(args.scale, "positions") as (db_url, keys):
        server = Server(args.workers, {"WANGGE_DATABASE_URL": db_url})
        try:
            server.wait()
            ks = worker_keys(server.url, db_url, keys["admin"], args.workers_k)
            for rate in args.rate:
                rows.append(
                    ("1 a request", 1, *measure(server.url, db_url, ks, 1, rate, args.seconds))
                )
                rows.append(
                    (f"{args.batch} a request", args.batch,
                     *measure(server.url, db_url, ks, args.batch, rate, args.seconds))
                )  # fmt: skip
        finally:
            server.stop()
    after = os.getloadavg()
    print(
        f"load average {before[0]:.2f} before / {after[0]:.2f} after (1 min; 5 min {after[1]:.2f})"
        f" on {os.cpu_count()} cores, {args.workers} server workers, {len(ks)} grid workers,"
        f" {args.seconds:.0f}s a run"
    )
    for label, _batch, run, got, per_s, sent in rows:
        print(f"{run.line(label)}\n{'':34} positions stored {got}/{sent} sent = {per_s:8.0f}/s")
    for i in range(0, len(rows), 2):
        base, full = rows[i], rows[i + 1]
        ratio = full[4] / base[4] if base[4] else float("nan")
        print(
            f"at {full[2].offered_per_s:.0f} req/s: batches of {full[1]} store {ratio:.0f}x the"
            f" positions of single fixes at {full[2].p50_ms / base[2].p50_ms:.2f}x the p50 latency"
        )


if __name__ == "__main__":
    main()
