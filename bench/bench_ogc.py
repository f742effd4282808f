"""Benchmark /ogc against tipg on the same table of the same database, in the same run.

Usage: ``python bench/bench_ogc.py [--requests 300] [--concurrency 8] [--workers 2]
[--tiles 3] [--rounds 2]``

Both servers run with 2 uvicorn workers against the full demo district: a private
database loaded here at scale 1 and dropped afterwards, or ``WANGGE_DATABASE_URL``'s
(loaded at scale 1 if it holds no demo).  The feature test asks each server for GeoJSON pages of 1,000 level-3
grid cells in a bbox — every request a different bbox that holds ≥ 1,000 cells, so no
cache can answer it — from several concurrent clients, and prints requests/s and
latency percentiles for both, with the ratios.  The tile test fetches every z14 tile
over the district (level-3 cells), each once per pass, with a minimal keep-alive client
(`closed_loop`, so the client's CPU is not what is measured): a **cold** pass with
nothing usable kept (round 1: an empty cache after the start; later rounds: after a
write to every level-3 cell; PostgreSQL's buffers stay warm for both servers), then
``--tiles`` **warm** passes over the same pyramid, where our tile cache answers
(tipg has none: its warm passes render again), then an **edit** pass right after one
level-3 cell's boundary moved as a publish writes it (`bench/ogc_tiles.py`), where
only the tiles over that cell render again.  Each of our worker processes keeps
its own cache, so the first warm pass still renders the tiles a worker has not
seen; tiles/s, p50 and p99 are printed per phase for both, with the ratios.  Clients send
``Accept-Encoding: identity`` so neither server spends time compressing.  tipg lives in
its own virtualenv (``bench/.venv-tipg``, created here when missing) because its pins
are not ours.  The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from board_db import demo_database  # bench/board_db.py, beside this script
from ogc_tiles import measure_tiles, report_tiles  # bench/ogc_tiles.py
from sqlalchemy import text

from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings
from layers.tables.grid_cells import LIVE

ROOT = Path(__file__).resolve().parent.parent
TIPG_VENV = ROOT / "bench" / ".venv-tipg"
TIPG_VERSION = "1.6.1"
BOX_DEG = 0.04
HEADERS = {"Accept": "application/geo+json", "Accept-Encoding": "identity"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_demo(url: str) -> None:
    """Load the full demo district when the database has none (about a minute)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM grid_cells WHERE level = 3")).scalar()
    finally:
        engine.dispose()
    if n < 10_000:
        print("loading the full demo district (wangge demo load --replace, scale 1) …")
        wangge = ROOT / ".venv" / "bin" / "wangge"
        subprocess.run([str(wangge), "demo", "load", "--replace", "--scale", "1"], check=True)


def ensure_tipg() -> Path:
    """tipg in its own venv (its pins may clash with ours); returns its python."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {TIPG_VENV} with tipg {TIPG_VERSION} …")
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
            check=True,
        )
    return python


def start(cmd: list[str], env: dict[str, str], health: str, cwd: str | None = None):
    """Start a server and wait until `health` answers 200."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(300):
        try:
            if httpx.get(health, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"{health} never answered")


def boxes(url: str, n: int, seed: int) -> list[tuple[float, float, float, float]]:
    """`n` distinct bboxes of BOX_DEG degrees, each holding at least 1,000 level-3 cells."""
    rng = random.Random(seed)
    engine = make_engine(url, pool_size=1)
    found: list[tuple[float, float, float, float]] = []
    try:
        with engine.connect() as conn:
            x1, y1, x2, y2 = conn.execute(
                text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent(geom) e FROM grid_cells WHERE level = 3) s"
                )
            ).one()
            while len(found) < n:
                cx, cy = rng.uniform(x1, x2), rng.uniform(y1, y2)
                box = (
                    round(cx - BOX_DEG / 2, 6),
                    round(cy - BOX_DEG / 2, 6),
                    round(cx + BOX_DEG / 2, 6),
                    round(cy + BOX_DEG / 2, 6),
                )
                count = conn.execute(
                    text(
                        f"SELECT count(*) FROM grid_cells WHERE level = 3 AND {LIVE} "
                        "AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"
                    ),
                    dict(zip("abcd", box, strict=True)),
                ).scalar()
                if count >= 1000:
                    found.append(box)
    finally:
        engine.dispose()
    return found


def run(urls: list[str], concurrency: int, check: Callable[[httpx.Response], None]) -> dict:
    """Fetch every URL with `concurrency` client threads; wall time and latencies."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    todo = list(reversed(urls))

    def worker() -> None:
        with httpx.Client(headers=HEADERS, timeout=60) as client:
            while True:
                with lock:
                    if not todo:
                        return
                    url = todo.pop()
                start = time.perf_counter()
                try:
                    resp = client.get(url)
                    check(resp)
                except Exception as exc:
                    with lock:
                        errors.append(f"{url}: {exc}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    if errors:
        print(f"  {len(errors)} errors, first: {errors[0][:300]}")
    return {
        "n": len(latencies),
        "errors": len(errors),
        "per_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
    }


def page_check(resp: httpx.Response) -> None:
    """A 200 page of exactly 1,000 features (checked without parsing the body)."""
    if resp.status_code != 200:
        raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
    if resp.content.count(b'"type":"Feature"') + resp.content.count(b'"type": "Feature"') != 1000:
        raise RuntimeError("not 1,000 features")


def tile_check(resp: httpx.Response) -> None:
    """A tile (or an empty 204)."""
    if resp.status_code not in (200, 204):
        raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="feature pages per server/round")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server")
    parser.add_argument("--tiles", type=int, default=3, help="passes over the z14 tiles")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    print(f"load average before {os.getloadavg()}")
    with database() as url, servers(url, args.workers) as (ours_port, tipg_port):
        figures = measure(args, url, ours_port, tipg_port)
        figures.update(measure_tiles(args, url, ours_port, tipg_port))
    report(figures, args)
    print(f"load average after {os.getloadavg()}")


@contextmanager
def database() -> Iterator[str]:
    """`WANGGE_DATABASE_URL` (with the demo loaded), else a private scale-1 demo database."""
    if os.environ.get("WANGGE_DATABASE_URL"):
        url = resolve_database_url(DatabaseSettings(), start=True)
        ensure_demo(url)
        yield url
        return
    print("loading the demo district (scale 1) into a private database …")
    with demo_database(1.0, "ogc") as (url, _keys):
        yield url


@contextmanager
def servers(url: str, workers: int) -> Iterator[tuple[int, int]]:
    """Our server and tipg, `workers` uvicorn workers each, on the same database."""
    tipg_python = ensure_tipg()
    ours_port, tipg_port = free_port(), free_port()
    common = ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    ours = start(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "uvicorn",
            "geo_api.app:create_app",
            "--factory",
            "--port",
            str(ours_port),
            *common,
        ],
        {**os.environ, "WANGGE_DATABASE_URL": url},
        f"http://127.0.0.1:{ours_port}/health",
    )
    tipg_env = {
        **os.environ,
        "DATABASE_URL": url.replace("postgresql+psycopg2", "postgresql"),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.grid_cells"]',
        "TIPG_TILE_BUFFER": "64",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    procs = [ours]
    try:
        with tempfile.TemporaryDirectory() as empty:  # no stray .env for tipg to read
            procs.append(
                start(
                    [
                        str(tipg_python),
                        "-m",
                        "uvicorn",
                        "tipg.main:app",
                        "--port",
                        str(tipg_port),
                        *common,
                    ],
                    tipg_env,
                    f"http://127.0.0.1:{tipg_port}/collections/public.grid_cells",
                    cwd=empty,
                )
            )
            yield ours_port, tipg_port
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)


def measure(args: argparse.Namespace, url: str, ours_port: int, tipg_port: int) -> dict:
    """Alternate the two servers over the same bboxes and tiles."""
    rounds = args.rounds
    all_boxes = boxes(url, args.requests * rounds + 40, args.seed)
    ours = f"http://127.0.0.1:{ours_port}/ogc/collections/grid_cells_l3"
    tipg = f"http://127.0.0.1:{tipg_port}/collections/public.grid_cells"

    def pages(base: str, extra: str, chunk: list) -> list[str]:
        return [f"{base}/items?bbox={','.join(map(str, b))}&limit=1000{extra}" for b in chunk]

    warm = all_boxes[:40]
    run(pages(ours, "", warm), args.concurrency, page_check)
    run(pages(tipg, "&level=3", warm), args.concurrency, page_check)
    results: dict[str, list[dict]] = {"ours": [], "tipg": []}
    for r in range(rounds):
        chunk = all_boxes[40 + r * args.requests : 40 + (r + 1) * args.requests]
        order = ["ours", "tipg"] if r % 2 == 0 else ["tipg", "ours"]
        for name in order:
            urls = pages(ours, "", chunk) if name == "ours" else pages(tipg, "&level=3", chunk)
            results[name].append(run(urls, args.concurrency, page_check))
    return results


def combine(runs: list[dict]) -> dict:
    """Mean throughput and worst p99 over the rounds."""
    return {
        "per_s": statistics.mean(r["per_s"] for r in runs),
        "p50_ms": statistics.mean(r["p50_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def report(results: dict, args: argparse.Namespace) -> None:
    """Print both servers' figures and the ratios; the last line is JSON."""
    out = {k: combine(v) for k, v in results.items() if v}
    print(
        f"bbox pages of 1,000 level-3 cells (GeoJSON), {args.concurrency} clients, "
        f"{args.workers} workers each, {args.requests} requests × {args.rounds} rounds:"
    )
    for name in ("ours", "tipg"):
        r = out[name]
        print(
            f"  {name:5s}: {r['per_s']:7.1f} req/s  p50 {r['p50_ms']:7.1f} ms  "
            f"p99 {r['p99_ms']:7.1f} ms  errors {r['errors']}"
        )
    rps = out["ours"]["per_s"] / out["tipg"]["per_s"]
    p99 = out["ours"]["p99_ms"] / out["tipg"]["p99_ms"]
    print(f"  ratio ours/tipg: requests/s {rps:.2f}x, p99 {p99:.2f}x (lower is better)")
    out["ratio"] = {"requests_per_s": rps, "p99": p99, **report_tiles(results, out, args)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
