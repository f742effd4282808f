"""First render of the planners' editor in Chromium: navigation to cells drawn, bytes moved.

Usage: ``python bench/bench_planning_editor_page.py [--database NAME] [--scale 1.0] [--loads 3]``
(`bench_planning_editor.py` runs it too, after the edits).

Serves the app on 127.0.0.1 (uvicorn in a thread, the bench's database), signs the
planner in once, makes a street draft (the street with the most level-1 cells) and
a district draft, and for each opens ``/planning/editor?revision=ID`` in Debian's
headless Chromium (as the browser tests do) ``--loads`` times in a fresh context
with the session cookie: the time from navigation until the page's draft layer
is on the map (`window.wanggeEditor.loaded`, set after the first redraw, and at
least one `.wg-cell` path drawn), and the bytes transferred (response bodies as
sent, compressed, plus headers) by request.  The drafts are discarded at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from chromium import ARGS, CHROMIUM, signed_in_cookies  # bench/, beside this script
from sqlalchemy import text

READY = (
    "() => document.body.dataset.ready === 'cells' "
    "&& document.querySelectorAll('#wg-pe-map path.wg-cell').length > 0"
)
"""The page's marker: its draft layer is on the map (problems may still be on their way)."""
CHECKED = "() => window.wanggeEditor && window.wanggeEditor.loaded >= 1"
"""Everything loaded, the full validation's problems included."""


def first_render(browser, url: str, cookies: list[Any], rid: int) -> dict[str, Any]:
    """Seconds from navigation to the cells drawn; bytes per request (body + headers)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies(cookies)
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    finished: list[Any] = []
    page.on("requestfinished", lambda r: finished.append(r))
    start = time.perf_counter()
    page.goto(f"{url}/planning/editor?revision={rid}", wait_until="commit")
    page.wait_for_function(READY, timeout=120_000, polling=20)
    seconds = time.perf_counter() - start
    page.wait_for_function(CHECKED, timeout=120_000, polling=50)
    checked = time.perf_counter() - start
    cells = page.evaluate("() => Object.keys(window.wanggeEditor.cells).length")
    fetched = page.evaluate(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('/figures'))"
        ".map(e => e.responseEnd / 1000)[0] || null"
    )
    by_path: dict[str, int] = {}
    for req in list(finished):
        size = req.sizes()
        path = req.url.split("?")[0].replace(url, "")
        if "/tiles/" in path:
            path = "base map tiles"
        n = size["responseBodySize"] + size["responseHeadersSize"]
        by_path[path] = by_path.get(path, 0) + n
    context.close()
    return {
        "s": seconds,
        "checked": checked,
        "figures_s": fetched,
        "cells": cells,
        "bytes": by_path,
        "blocked": blocked,
    }


def run(url_db: str, keys: dict[str, str], loads: int) -> dict[str, Any]:
    """Both drafts, `loads` first renders each; the figures."""
    from playwright.sync_api import sync_playwright

    from geo_api.app import create_app
    from geo_api.migrate import grant_service_role
    from geo_api.settings import Settings
    from layers.store.db import make_engine
    from layers.store.settings import DatabaseSettings
    from tests.live_server import serve_in_thread

    grant_service_role(url_db, DatabaseSettings(database_url=url_db))
    engine = make_engine(url_db, pool_size=1)
    street, drafts = _make_drafts(engine)
    out: dict[str, Any] = {"street": street}
    app = create_app(Settings(db=DatabaseSettings(database_url=url_db)))
    try:
        with serve_in_thread(app, log_level="warning") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            cookies = signed_in_cookies(browser, url, keys["planner"])
            for name, rid in drafts.items():
                runs = [first_render(browser, url, cookies, rid) for _ in range(loads)]
                times = [r["s"] for r in runs]
                out[name] = {
                    "level1_cells": _level1(engine, rid),
                    "cells_loaded": runs[-1]["cells"],
                    "first_render_s": [round(t, 2) for t in times],
                    "first_render_median_s": round(statistics.median(times), 2),
                    "figures_received_median_s": round(
                        statistics.median(r["figures_s"] or 0 for r in runs), 2
                    ),
                    "with_problems_median_s": round(
                        statistics.median(r["checked"] for r in runs), 2
                    ),
                    "bytes": sum(runs[-1]["bytes"].values()),
                    "bytes_by_request": dict(
                        sorted(runs[-1]["bytes"].items(), key=lambda kv: -kv[1])[:6]
                    ),
                    "blocked": runs[-1]["blocked"],
                }
            browser.close()
    finally:
        _discard(engine, drafts)
        engine.dispose()
    return out


def _make_drafts(engine) -> tuple[str, dict[str, int]]:
    """A street draft (the street with the most level-1 cells) and a district draft."""
    from grids.planning.drafts import create_draft
    from layers.store.db import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        street = session.execute(
            text(
                "SELECT left(code, 9) FROM grid_cells WHERE valid_to IS NULL AND level = 1 "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            )
        ).scalar_one()
        drafts = {
            scope: create_draft(
                session=session, scope=scope, code=code, author="bench", role="planner", note=None
            )
            for scope, code in (("street", street), ("district", ""))
        }
        session.commit()
    return street, drafts


def _discard(engine, drafts: dict[str, int]) -> None:
    from grids.planning.drafts import get_revision
    from grids.planning.edit_units import discard_draft
    from layers.store.db import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        for rid in drafts.values():
            discard_draft(
                session=session,
                revision=get_revision(session=session, revision_id=rid),
                actor="bench",
                role="planner",
            )
        session.commit()


def _level1(engine, rid: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM grid_draft_cells WHERE revision_id = :r AND level = 1"),
            {"r": rid},
        ).scalar_one()


def report(figures: dict[str, Any]) -> None:
    """One line per draft, then the figures as JSON."""
    for name in ("street", "district"):
        f = figures[name]
        print(
            f"first render {name:8s} ({f['level1_cells']} level-1 cells, {f['cells_loaded']} "
            f"cells loaded): median {f['first_render_median_s']} s {f['first_render_s']} "
            f"(figures received {f['figures_received_median_s']} s, problems listed "
            f"{f['with_problems_median_s']} s), "
            f"{f['bytes'] / 1e6:.2f} MB transferred; biggest {f['bytes_by_request']}"
        )
    print(json.dumps(figures))


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_planning_editor import database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="wangge_bench_editor")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--loads", type=int, default=3)
    args = parser.parse_args()
    url = database(args.database, args.scale)
    keys = json.loads(Path(f"/tmp/{args.database}-keys.json").read_text())
    load_before = os.getloadavg()
    figures = run(url, keys, args.loads)
    figures["loadavg_before"] = [round(x, 2) for x in load_before]
    figures["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load {figures['loadavg_before'][0]} → {figures['loadavg_after'][0]}")
    report(figures)


if __name__ == "__main__":
    main()
