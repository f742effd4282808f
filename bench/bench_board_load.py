"""The dispatchers' board, first load: navigation to every open case drawn, bytes over the wire.

Builds a demo database of its own (`--scale`, 1 by default: the full district; dropped
at the end), starts uvicorn with 2 worker processes, signs the district dispatcher in
once, and opens ``/board`` in Debian's headless Chromium ``--loads`` times, each in a
fresh context with the session cookie: the seconds from navigation until the board has
loaded all its open cases and drawn them (``wanggeBoard.loaded == wanggeBoard.total``,
every part of ``/board/cases/columns`` in, and ``wanggeBoard.rendered``: the dots are on
the canvas, the counts and the queue list written) and the bytes moved (response bodies as sent, compressed,
plus headers; map tiles counted apart).  Then the same with ten times as many open
cases: each open case copied nine times a few metres away (no external id, no token),
so the board's queries see a district ten times as busy.

Targets (issue 11 §7): ≤ 1.5 s to first render and ≤ 1 MB over the wire, at the
demo's open cases and at 10×.

    .venv/bin/python bench/bench_board_load.py [--scale 1] [--loads 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from board_db import demo_database  # bench/, beside this script
from chromium import ARGS, CHROMIUM, signed_in_cookies  # bench/, beside this script
from http_load import Server
from sqlalchemy import text

from layers.store.db import make_engine

LOADED = (
    "() => window.wanggeBoard && wanggeBoard.total > 0 && wanggeBoard.loaded >= wanggeBoard.total"
    " && wanggeBoard.rendered"
)
CLOSED = ("closed", "evaluated", "void")
UNIQUE = {"id", "external_id", "access_token_hash"}


def tenfold(db_url: str) -> int:
    """Copy every case that is not closed nine times, 1–9 m east; the copies made."""
    engine = make_engine(db_url, pool_size=1)
    with engine.begin() as conn:
        cols = [
            c
            for c in conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'incidents' AND table_schema = 'public' "
                    "AND is_generated = 'NEVER' ORDER BY ordinal_position"
                )
            ).scalars()
            if c not in UNIQUE
        ]
        picked = ", ".join(
            "ST_Translate(i.geom, k * 0.00001, 0)" if c == "geom" else f"i.{c}" for c in cols
        )
        made = conn.execute(
            text(
                f"INSERT INTO incidents ({', '.join(cols)}) SELECT {picked} "
                "FROM incidents i CROSS JOIN generate_series(1, 9) AS k "
                "WHERE i.status <> ALL(:closed)"
            ),
            {"closed": list(CLOSED)},
        ).rowcount
    # A district that busy has its statistics up to date: without them the planner
    # guesses 160 open rows and sorts the 16,000 of a part on disk.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) incidents"))
    engine.dispose()
    return made


def first_load(browser: Any, url: str, cookies: list[Any]) -> dict[str, Any]:
    """Seconds to all open cases on the map; bytes by kind (cases, tiles, the rest)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies(cookies)
    page = context.new_page()
    finished: list[Any] = []
    page.on("requestfinished", lambda r, into=finished: into.append(r))
    start = time.perf_counter()
    page.goto(f"{url}/board", wait_until="commit")
    page.wait_for_function(LOADED, timeout=120_000, polling=20)
    seconds = time.perf_counter() - start
    total = page.evaluate("() => wanggeBoard.total")
    kinds = {"cases": 0, "tiles": 0, "rest": 0}
    for req in list(finished):
        size = req.sizes()
        n = size["responseBodySize"] + size["responseHeadersSize"]
        path = req.url.split("?")[0]
        kind = "cases" if "/board/cases" in path else "tiles" if "/tiles/" in path else "rest"
        kinds[kind] += n
    context.close()
    return {"s": seconds, "total": total, **kinds}


def measure(url: str, key: str, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        cookies = signed_in_cookies(browser, url, key)
        runs = [first_load(browser, url, cookies) for _ in range(loads)]
        browser.close()
    last = runs[-1]
    return {
        "median_s": statistics.median(r["s"] for r in runs),
        "all_s": [round(r["s"], 2) for r in runs],
        "cases": last["total"],
        "bytes_wo_tiles": last["cases"] + last["rest"],
        "cases_bytes": last["cases"],
        "tiles_bytes": last["tiles"],
    }


def _line(label: str, m: dict[str, Any]) -> str:
    mb = m["bytes_wo_tiles"] / 1e6
    ok = "met" if m["median_s"] <= 1.5 and mb <= 1.0 else "NOT met"
    return (
        f"{label:14} {m['cases']:6} open cases  first load {m['median_s']:5.2f} s (runs {m['all_s']})"
        f"  {mb:5.2f} MB without tiles (cases {m['cases_bytes'] / 1e6:.2f} MB),"
        f" tiles {m['tiles_bytes'] / 1e6:.2f} MB  — {ok} (<= 1.5 s, <= 1 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    before = os.getloadavg()
    with demo_database(args.scale, "boardload") as (db_url, keys):
        server = Server(args.workers, {"WANGGE_DATABASE_URL": db_url})
        try:
            server.wait()
            demo = measure(server.url, keys["dispatcher"], args.loads)
            copies = tenfold(db_url)
            busy = measure(server.url, keys["dispatcher"], args.loads)
        finally:
            server.stop()
    after = os.getloadavg()
    print(
        f"load average {before[0]:.2f} before / {after[0]:.2f} after on {os.cpu_count()} cores,"
        f" {args.workers} server workers, scale {args.scale}; {copies} copies made for 10x"
    )
    print(_line("demo", demo))
    print(_line("10x open", busy))
    print(f"10x / demo first load: {busy['median_s'] / demo['median_s']:.2f}x")


if __name__ == "__main__":
    main()
