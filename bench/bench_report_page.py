"""The resident's report page: bytes over the wire before the map tiles, and submit latency.

Builds a demo database of its own (`--scale`, dropped at the end), starts uvicorn with
2 worker processes on it, and

1. opens ``/report`` in Debian's headless Chromium ``--loads`` times, each in a fresh
   context (a first visit: nothing cached), waits until the network is idle, and sums
   what every response moved (its body as sent, compressed, plus headers) apart from
   map tiles (``/tiles/`` and raster tile URLs), which depend on where the resident
   looks;
2. submits reports the way the page does (``POST /incidents`` with an
   ``Idempotency-Key`` of its own per report, channel ``resident_app``) at a fixed
   ``--rate`` for ``--seconds`` (open loop), beside ``GET /health`` at the same rate in
   the same run.

Targets (issue 11 §7): ≤ 300 KB before the map tiles; submit p95 ≤ 100 ms at 50 req/s.

    .venv/bin/python bench/bench_report_page.py [--scale 0.05] [--rate 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from typing import Any

from board_db import demo_database, inside_points  # bench/, beside this script
from chromium import ARGS, CHROMIUM  # bench/, beside this script
from fixed_rate import Paced, paced
from http_load import Server

BUDGET_BYTES = 300 * 1024
SUBMIT_P95_MS = 100.0


def _is_tile(path: str) -> bool:
    return "/tiles/" in path or path.rstrip("/").split("/")[-1].split(".")[-1] in {"png", "pbf"}


def page_weight(url: str, loads: int) -> dict[str, Any]:
    """Bytes before the tiles per first visit (median), the largest requests, seconds to idle."""
    from playwright.sync_api import sync_playwright

    totals: list[int] = []
    seconds: list[float] = []
    biggest: dict[str, int] = {}
    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for _ in range(loads):
            context = browser.new_context(viewport={"width": 360, "height": 740})

            def route(r: Any) -> None:
                if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            finished: list[Any] = []
            page.on("requestfinished", lambda r, into=finished: into.append(r))
            start = time.perf_counter()
            page.goto(f"{url}/report", wait_until="networkidle")
            seconds.append(time.perf_counter() - start)
            by_path: dict[str, int] = {}
            for req in finished:
                path = req.url.split("?")[0].replace(url, "")
                if _is_tile(path):
                    continue
                size = req.sizes()
                by_path[path] = (
                    by_path.get(path, 0) + size["responseBodySize"] + size["responseHeadersSize"]
                )
            totals.append(sum(by_path.values()))
            biggest = dict(sorted(by_path.items(), key=lambda kv: -kv[1])[:8])
            context.close()
        browser.close()
    return {
        "bytes": int(statistics.median(totals)),
        "seconds": statistics.median(seconds),
        "biggest": biggest,
        "blocked": blocked,
    }


def submit(
    url: str, rate: float, seconds: float, points: list[tuple[float, float]]
) -> tuple[Paced, Paced]:
    """(POST /incidents as the page sends it, GET /health) at the same fixed rate."""
    tag = uuid.uuid4().hex[:8]

    def report(i: int) -> tuple[str, str, bytes, str]:
        lon, lat = points[(i * 7919) % len(points)]
        body = {
            "location": {"lon": lon, "lat": lat},
            "category": "0102",
            "channel": "resident_app",
            "description": f"路灯不亮 {tag} {i}",
        }
        return ("POST", "/incidents", json.dumps(body).encode(), f"Idempotency-Key: {tag}-{i}\r\n")

    posted = paced(url, rate=rate, seconds=seconds, pick=report)
    health = paced(url, rate=rate, seconds=seconds, pick=lambda i: ("GET", "/health", b""))
    return posted, health


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    before = os.getloadavg()
    with demo_database(args.scale, "report") as (db_url, _keys):
        server = Server(args.workers, {"WANGGE_DATABASE_URL": db_url})
        try:
            server.wait()
            weight = page_weight(server.url, args.loads)
            posted, health = submit(server.url, args.rate, args.seconds, inside_points(db_url))
        finally:
            server.stop()
    after = os.getloadavg()
    print(
        f"load average {before[0]:.2f} before / {after[0]:.2f} after on {os.cpu_count()} cores,"
        f" {args.workers} server workers, scale {args.scale}"
    )
    kb = weight["bytes"] / 1024
    print(
        f"/report first visit, 360x740, before the map tiles: {kb:.1f} KB (median of"
        f" {args.loads}), network idle after {weight['seconds']:.2f} s;"
        f" {'met' if weight['bytes'] <= BUDGET_BYTES else 'NOT met'} (<= 300 KB)"
    )
    for path, n in weight["biggest"].items():
        print(f"  {n / 1024:8.1f} KB  {path}")
    if weight["blocked"]:
        print("  requests that would have left 127.0.0.1:", weight["blocked"][:5])
    print(posted.line("POST /incidents (report page)"))
    print(health.line("GET /health (baseline)"))
    ratio = posted.p95_ms / health.p95_ms if health.p95_ms else float("nan")
    verdict = "met" if posted.p95_ms <= SUBMIT_P95_MS and not posted.errors else "NOT met"
    print(
        f"submit p95 / health p95: {ratio:.2f}x; submit p95 <= 100 ms at {args.rate:.0f}/s: {verdict}"
    )


if __name__ == "__main__":
    main()
