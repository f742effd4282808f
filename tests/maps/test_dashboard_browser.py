"""The leader's dashboard in real Chromium: charts drawn locally, CSV = KPIs, live on a new case.

A planner (the role that reads the KPIs beside the dispatchers and admins) signs in
through the form.  Every chart is drawn with nothing fetched from outside 127.0.0.1
and no console error; hovering a bar shows its number; the per-street chart's CSV
download holds the numbers of ``GET /analytics/kpis``; a resident's new case, pushed
through the stream, raises "received today" without reload.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

pytestmark = pytest.mark.browser

CHARTS = {
    "counts",
    "on_time",
    "levels_by_street",
    "levels_over_time",
    "rework",
    "satisfaction",
    "channels",
    "cameras",
    "hotspots",
}


@pytest.fixture(scope="module")
def wall(browser, live_url: str, test_db):
    """The planner's signed-in dashboard, with what left the machine and what went wrong."""
    seen = {"blocked": [], "errors": []}
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else (seen["blocked"].append(r.request.url), r.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(f"{live_url}/login?next=/dashboard")
    page.fill("input[name=key]", test_db.keys["planner"])
    page.click("input[type=submit]")
    page.wait_for_url("**/dashboard")
    page.wait_for_function("() => window.wanggeDashboard && wanggeDashboard.rendered > 0")
    page.wait_for_function(
        "() => document.getElementById('wg-dash-live').textContent.includes('live')"
    )
    try:
        yield page, seen
    finally:
        context.close()


def _received_today(page) -> int:
    return page.evaluate(
        "() => wanggeDashboard.figures.charts.find(c => c.id === 'counts').rows[0][1]"
    )


def test_the_dashboard_draws_every_chart_locally_and_the_csv_is_the_kpis(
    wall, live_url: str, test_db, repo_root: Path, artifacts: Path
) -> None:
    page, seen = wall
    assert set(page.evaluate("() => wanggeDashboard.ids")) == CHARTS
    for chart in CHARTS - {"hotspots"}:  # ECharts drew a canvas in each card
        assert page.locator(f"#wg-plot-{chart} canvas").count() >= 1, chart
    assert page.locator("#wg-plot-hotspots canvas").count() == 1  # the small map's cells
    assert page.evaluate("() => wanggeDashboard.hotspots") > 0
    box = page.locator("#wg-plot-on_time").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    tip = page.locator("#wg-plot-on_time div", has_text="%").last
    tip.wait_for(timeout=5000)  # the number on hover
    shown = page.evaluate(
        "() => wanggeDashboard.figures.charts.find(c => c.id === 'on_time').rows.map(r => r[1])"
    )
    assert any(f"{v} %" in tip.inner_text() for v in shown if v is not None)
    with page.expect_download() as got:
        page.click("#wg-card-levels_by_street a.wg-csv")
    path = got.value.path()
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    kpis = httpx.get(f"{live_url}/analytics/kpis", headers=test_db.headers("planner")).json()
    want = [
        [s["code"], s["name"]]
        + [
            "" if s[k] is None else str(round(s[k] * 100, 2))
            for k in ("resolved_at_community", "resolved_at_street", "resolved_at_district")
        ]
        + [str(s["closed"])]
        for s in kpis["streets"]
    ]
    assert rows[0][0] == "street" and rows[1:] == want and len(want) > 0
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    shutil.copy(artifacts / "dashboard.png", repo_root / "docs" / "screenshots" / "dashboard.png")
    assert seen["blocked"] == [] and seen["errors"] == []


def test_a_new_case_is_pushed_and_the_figures_follow(wall, live_url: str, engine: Engine) -> None:
    page, seen = wall
    before = _received_today(page)
    with engine.connect() as c:
        lon, lat = c.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM grid_cells g, LATERAL ST_PointOnSurface(g.geom) p"
                " WHERE g.level = 1 AND g.valid_to IS NULL ORDER BY g.code LIMIT 1"
            )
        ).one()
    filed = httpx.post(
        f"{live_url}/incidents",
        json={
            "location": {"lon": lon, "lat": lat},
            "category": "0101",
            "channel": "hotline_96966",
            "description": "新案件 a new case",
        },
    )
    assert filed.status_code == 201, filed.text
    page.wait_for_function(
        "n => wanggeDashboard.figures.charts.find(c => c.id === 'counts').rows[0][1] > n",
        arg=before,
        timeout=10_000,
    )
    assert _received_today(page) == before + 1
    assert page.evaluate("() => wanggeDashboard.pushes") >= 1
    assert seen["errors"] == []
