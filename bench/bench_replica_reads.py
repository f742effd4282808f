"""OGC reads from the read replica vs from the primary, while the primary takes intake at 300/s.

Issue 16 §4: the p99 of reads with and without the replica.  Everything runs on a
private pair made here and removed afterwards (the shared cluster is not touched):
a primary under a temporary ``$WANGGE_HOME`` holding the demo at ``--scale``
(0.05), and its streaming hot standby (`ReplicaCluster`, ``pg_basebackup``, as
``wangge db start --replica`` makes it).  For each mode the server (2 workers) is
started on the pair given as two URLs, with ``WANGGE_REPLICA_READS`` true
(reads on the replica) or false (everything on the primary); then, for
``--seconds``:

- intake: ``POST /incidents`` at a fixed ``--rate`` (300/s, open loop, in a child
  process so it does not share the reader's event loop), every case a write on
  the primary;
- reads: at a fixed ``--read-rate``, alternately an OGC items page (100 level-3
  cells in a bbox that moves with every request) and a z14 vector tile
  (level-3 cells and buildings over the district), latencies from each request's
  due time (`fixed_rate`).

The tile cache is off (``WANGGE_TILE_CACHE_BYTES=0``) so that every tile is read
from the database being compared.  The replica's lag is sampled on the primary
every 0.25 s (``pg_stat_replication.replay_lag`` and the bytes not yet replayed).
Modes alternate over ``--rounds``; load averages are printed around each phase.

    .venv/bin/python bench/bench_replica_reads.py [--seconds 20] [--rate 300] [--read-rate 40]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import secrets
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fixed_rate import Paced, paced  # bench/fixed_rate.py, beside this script
from http_load import Server
from ogc_tiles import z14_tiles
from sqlalchemy import create_engine, pool, text

from geo_api.migrate import grant_service_role, upgrade
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, load_demo
from layers.store.cluster import PrivateCluster
from layers.store.db import make_engine, make_sessionmaker
from layers.store.replica import ReplicaCluster
from layers.store.settings import DatabaseSettings

LAG_SQL = (
    "SELECT coalesce(extract(epoch FROM max(replay_lag)), 0), "
    "coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) FROM pg_stat_replication"
)


def owner_sql(url: str, statement: str) -> object:
    engine = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement)).scalar()
    finally:
        engine.dispose()


@contextmanager
def private_pair(scale: float, service_password: str) -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL), owners': the demo on a private primary and its standby.

    The server's role is granted with `service_password` before the base backup,
    so the standby has it too (the server reads there with the same login).
    """
    with tempfile.TemporaryDirectory(prefix="wangge-replica-bench-") as home:
        primary = PrivateCluster(DatabaseSettings(home=Path(home), database_url=None))
        primary.start()
        replica = ReplicaCluster(primary)
        try:
            url = primary.url()
            upgrade(url)
            login = DatabaseSettings(database_url=url, service_password=service_password)
            grant_service_role(url, login)
            engine = make_engine(url, pool_size=1)
            with make_sessionmaker(engine)() as session:
                load_demo(
                    session=session,
                    options=DemoOptions(seed=7, scale=scale, now=datetime.now(UTC)),
                    keys_path=Path(home) / "keys.json",
                    report=Progress(lambda _m: None),
                )
            engine.dispose()
            print(replica.start())
            owner_sql(url, "SELECT txid_current()")  # a commit to replay: the lag is known
            deadline = time.monotonic() + 60
            while not owner_sql(
                replica.url(), "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not catch up")
                time.sleep(0.1)
            yield url, replica.url()
        finally:
            replica.stop()
            primary.stop()


class LagSampler(threading.Thread):
    """Samples the standby's replay lag on the primary until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.lags: list[float] = []
        self.bytes_behind: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        engine = create_engine(self.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            while not self.halt.is_set():
                lag, behind = conn.execute(text(LAG_SQL)).one()
                self.lags.append(float(lag))
                self.bytes_behind.append(float(behind))
                self.halt.wait(0.25)
        engine.dispose()

    def summary(self) -> dict[str, float]:
        lags, behind = sorted(self.lags) or [0.0], sorted(self.bytes_behind) or [0.0]
        return {
            "lag_p50_ms": 1000 * lags[len(lags) // 2],
            "lag_max_ms": 1000 * lags[-1],
            "behind_max_kb": behind[-1] / 1024,
        }


def case_points(db_url: str) -> list[tuple[float, float]]:
    """A point inside each level-3 cell: every case lands in the district, on a grid."""
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_cells "
                "WHERE level = 3 ORDER BY id) s"
            )
        ).all()
    engine.dispose()
    return [(float(x), float(y)) for x, y in rows]


def _intake(url: str, rate: float, seconds: float, points: list, conn) -> None:
    tag = "replicabench" + uuid.uuid4().hex[:6]

    def pick(i: int):
        lon, lat = points[(i * 7919) % len(points)]
        body = json.dumps(
            {
                "location": {"lon": lon, "lat": lat},
                "category": "0102",
                "channel": "resident_app",
                "description": f"{tag} {i}",
            }
        ).encode()
        return ("POST", "/incidents", body)

    conn.send(paced(url, rate=rate, seconds=seconds, pick=pick, connections=32))


def read_requests(db_url: str, seed: int) -> list[str]:
    """Items pages in moving bboxes and z14 tiles of two layers, interleaved."""
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        x1, y1, x2, y2 = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) e FROM grid_cells WHERE level = 3) s"
            )
        ).one()
    engine.dispose()
    rng = random.Random(seed)
    tiles = [
        f"/ogc/collections/{c}/tiles/WebMercatorQuad/14/{y}/{x}"
        for x, y in z14_tiles(db_url)
        for c in ("grid_cells_l3", "buildings")
    ]
    out = []
    for i in range(4000):
        if i % 2:
            out.append(tiles[rng.randrange(len(tiles))])
            continue
        cx, cy = rng.uniform(x1, x2), rng.uniform(y1, y2)
        box = f"{cx - 0.005:.6f},{cy - 0.005:.6f},{cx + 0.005:.6f},{cy + 0.005:.6f}"
        out.append(f"/ogc/collections/grid_cells_l3/items?bbox={box}&limit=100")
    return out


def phase(
    args: argparse.Namespace, env: dict[str, str], primary: str, on_replica: bool, reads: list[str]
) -> dict:
    """One mode: a fresh server, intake and reads together; the readers' and lag figures."""
    points = case_points(primary)
    server = Server(2, {**env, "WANGGE_REPLICA_READS": "true" if on_replica else "false"})
    try:
        server.wait()
        health = str(httpx.get(server.url + "/health", timeout=5).json().get("replica"))
        paced(server.url, rate=20, seconds=2, pick=lambda i: ("GET", reads[i], b""))  # warm
        load_before = os.getloadavg()[0]
        sampler = LagSampler(primary)
        sampler.start()
        here, there = mp.Pipe()
        child = mp.get_context("spawn").Process(
            target=_intake, args=(server.url, args.rate, args.seconds, points, there)
        )
        child.start()
        time.sleep(0.5)  # the child's interpreter up before the readers' clock starts
        read = paced(
            server.url,
            rate=args.read_rate,
            seconds=args.seconds - 1,
            pick=lambda i: ("GET", reads[i % len(reads)], b""),
            connections=16,
        )
        intake: Paced = here.recv()
        child.join(30)
        sampler.halt.set()
        sampler.join(5)
    finally:
        server.stop()
    return {
        "mode": "replica" if on_replica else "primary",
        "health_replica": health,
        "reads": read,
        "intake": intake,
        "lag": sampler.summary(),
        "load": (load_before, os.getloadavg()[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="demo district scale")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=300.0, help="POST /incidents per second")
    parser.add_argument("--read-rate", type=float, default=40.0, help="reads per second")
    parser.add_argument("--rounds", type=int, default=1, help="primary/replica alternations")
    args = parser.parse_args()
    print(f"load average before {os.getloadavg()}")
    results: list[dict] = []
    password = secrets.token_urlsafe(18)
    with private_pair(args.scale, password) as (primary, replica):
        reads = read_requests(primary, seed=42)
        env = {
            "WANGGE_DATABASE_URL": primary,
            "WANGGE_SERVICE_PASSWORD": password,
            "WANGGE_REPLICA_DATABASE_URL": replica,
            "WANGGE_TILE_CACHE_BYTES": "0",
        }
        for r in range(args.rounds):
            for on_replica in (False, True) if r % 2 == 0 else (True, False):
                got = phase(args, env, primary, on_replica, reads)
                results.append(got)
                print(
                    f"round {r + 1} {got['mode']:7s} (health says replica: "
                    f"{got['health_replica']}), load {got['load'][0]:.2f} -> {got['load'][1]:.2f}"
                )
                print("  " + got["intake"].line("POST /incidents (intake)"))
                print("  " + got["reads"].line("reads (items + tiles)"))
                print(f"  replica lag: {got['lag']}")
    report(results)
    print(f"load average after {os.getloadavg()}")


def report(results: list[dict]) -> None:
    """The worst p99 per mode over the rounds, and the ratio; the last line is JSON."""
    by_mode: dict[str, dict] = {}
    for mode in ("primary", "replica"):
        mine = [g for g in results if g["mode"] == mode]
        by_mode[mode] = {
            "reads_p50_ms": max(g["reads"].p50_ms for g in mine),
            "reads_p95_ms": max(g["reads"].p95_ms for g in mine),
            "reads_p99_ms": max(g["reads"].p99_ms for g in mine),
            "reads_achieved_per_s": min(g["reads"].achieved_per_s for g in mine),
            "reads_non_2xx": sum(g["reads"].non_2xx + g["reads"].errors for g in mine),
            "intake_achieved_per_s": min(g["intake"].achieved_per_s for g in mine),
            "intake_p99_ms": max(g["intake"].p99_ms for g in mine),
            "lag_max_ms": max(g["lag"]["lag_max_ms"] for g in mine),
        }
    p, r = by_mode["primary"], by_mode["replica"]
    for mode, f in by_mode.items():
        print(
            f"reads from the {mode:7s}: p50 {f['reads_p50_ms']:7.1f}  p95 {f['reads_p95_ms']:7.1f}"
            f"  p99 {f['reads_p99_ms']:7.1f} ms at {f['reads_achieved_per_s']:.1f}/s; intake "
            f"{f['intake_achieved_per_s']:.0f}/s p99 {f['intake_p99_ms']:.0f} ms"
        )
    ratio = r["reads_p99_ms"] / p["reads_p99_ms"]
    print(f"ratio replica/primary: reads p99 {ratio:.2f}x (lower is better)")
    print(json.dumps({**by_mode, "ratio_p99": ratio}))


if __name__ == "__main__":
    main()
