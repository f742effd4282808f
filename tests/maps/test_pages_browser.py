"""Every map page in a real headless Chromium: local requests only, no errors, layers, escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.core.case_states import OPEN_STATUSES
from layers.tables.grid_cells import LIVE
from tests.conftest import TEST_NOW
from tests.geo_api.test_maps_http import EMPTY_HOTSPOT_QUERIES
from tests.maps.conftest import open_page

pytestmark = pytest.mark.browser

HOSTILE = "<script>window.__xss=1</script>`${window.__xss2=1}`<img src=x onerror=window.__xss3=1>"

PAGES = [
    # name, path, role, overlays that must be listed, registry layers (name prefix → min count)
    ("coverage", "/maps/coverage", "planner", ["gap targets", "online views", "courtyards"], {}),
    ("hotspots", "/maps/hotspots", "planner", ["Gi*", "emerging trends", "cases"], {}),
    ("workload", "/maps/workload", "grid_worker", ["level 1", "level 2", "level 3"], {}),
    ("dispatch", "/maps/dispatch", "dispatcher", ["open cases", "on-duty workers"], {}),
]


@pytest.fixture(scope="module")
def hostile(engine: Engine) -> dict[str, object]:
    """User text that would run if it were not escaped: an open case and a service point."""
    with engine.begin() as c:
        case = c.execute(
            text(
                "INSERT INTO incidents (category_code, channel_code, status, description, address,"
                " geom, created_at, due_at) SELECT category_code, channel_code, 'filed', :t, :t,"
                " geom, :now, CAST(:now AS timestamptz) + interval '1 day' FROM incidents"
                " ORDER BY id LIMIT 1 RETURNING id, ST_X(geom), ST_Y(geom)"
            ),
            {"t": HOSTILE, "now": TEST_NOW},
        ).one()
        c.execute(
            text(
                "UPDATE service_points SET name = :t WHERE id = (SELECT id FROM service_points"
                " ORDER BY ST_Distance(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) LIMIT 1)"
            ),
            {"t": HOSTILE, "x": case[1], "y": case[2]},
        )
    return {"case_id": case[0], "lon": case[1], "lat": case[2]}


def _overlays(page) -> list[str]:
    return page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label", "els => els.map(e => e.textContent.trim())"
    )


def _registry(page) -> dict[str, int]:
    return page.evaluate(
        "() => Object.fromEntries(Object.entries(window.wanggeLayers || {})"
        ".map(([k, v]) => [k, v.count]))"
    )


def _check_clean(visit, live_url: str) -> None:
    assert visit.blocked == [], f"requests left 127.0.0.1: {visit.blocked}"
    assert all(u.startswith(live_url) or u.startswith("data:") for u in visit.requests)
    assert visit.console_errors == [] and visit.page_errors == []


@pytest.mark.parametrize(
    ("name", "path", "role", "overlays", "_"), PAGES, ids=[p[0] for p in PAGES]
)
def test_staff_page_in_chromium(
    browser, live_url, test_db, artifacts: Path, hostile, name, path, role, overlays, _
) -> None:
    context, page, visit, response = open_page(browser, live_url + path, test_db.headers(role))
    try:
        assert response.status == 200
        _check_clean(visit, live_url)
        listed = " | ".join(_overlays(page))
        for wanted in overlays:
            assert wanted in listed, f"{wanted!r} missing from the layer control: {listed}"
        assert page.locator(".leaflet-container").count() == 1
        assert page.evaluate("() => window.__xss || window.__xss2 || window.__xss3") is None
        page.screenshot(path=str(artifacts / f"map_{name}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("query", EMPTY_HOTSPOT_QUERIES.values(), ids=EMPTY_HOTSPOT_QUERIES)
def test_hotspot_page_with_an_empty_layer_in_chromium(
    browser, live_url, test_db, artifacts: Path, query
) -> None:
    context, page, visit, response = open_page(
        browser, f"{live_url}/maps/hotspots?{query}", test_db.headers("planner")
    )
    try:
        assert response.status == 200
        _check_clean(visit, live_url)
        note = page.locator(".wg-notes")
        assert note.count() == 1 and note.is_visible()
        assert "no pattern in this period" in note.inner_text()
        assert page.locator(".leaflet-container").count() == 1
        page.screenshot(path=str(artifacts / f"map_hotspots_empty_{query[:12]}.png"))
    finally:
        context.close()


def test_workload_draws_every_cell(browser, live_url, test_db, engine: Engine) -> None:
    context, page, _visit, _ = open_page(
        browser, live_url + "/maps/workload", test_db.headers("admin")
    )
    try:
        registry = _registry(page)
        with engine.connect() as c:
            live = dict(
                c.execute(
                    text(f"SELECT level, count(*) FROM grid_cells WHERE {LIVE} GROUP BY 1")
                ).all()
            )
        counts = {int(k.split("level ")[1][0]): v for k, v in registry.items() if "open cases" in k}
        assert counts == {1: live[1], 2: live[2], 3: live[3]}
    finally:
        context.close()


def test_dispatch_popup_shows_hostile_text_as_text(
    browser, live_url, test_db, hostile, artifacts: Path
) -> None:
    url = f"{live_url}/maps/dispatch?status=filed&limit=10000"
    context, page, visit, _ = open_page(browser, url, test_db.headers("dispatcher"))
    try:
        _check_clean(visit, live_url)
        opened = page.evaluate(
            """(id) => {
                const entry = Object.entries(window.wanggeLayers).find(([k]) => k.includes('open'));
                const all = [];
                entry[1].layer.eachLayer(m => all.push(m));
                const mine = all.find(m => m.getPopup()._content(m).textContent.includes('#' + id));
                const map = Object.values(window).find(v => v instanceof L.Map);
                map.setView(mine.getLatLng(), 18);
                L.popup().setLatLng(mine.getLatLng()).setContent(mine.getPopup()._content(mine))
                    .openOn(map);
                return true;
            }""",
            hostile["case_id"],
        )
        assert opened
        page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
        shown = page.inner_text(".leaflet-popup-content")
        assert "<script>window.__xss=1</script>" in shown and "${window.__xss2=1}" in shown
        assert page.evaluate("() => window.__xss || window.__xss2 || window.__xss3") is None
        page.screenshot(path=str(artifacts / "map_dispatch_popup.png"))
    finally:
        context.close()


def test_resident_page_in_chromium(browser, live_url, hostile, artifacts: Path, engine) -> None:
    url = f"{live_url}/maps/residents?lon={hostile['lon']}&lat={hostile['lat']}&radius=3000"
    context, page, visit, response = open_page(browser, url)
    try:
        assert response.status == 200
        _check_clean(visit, live_url)
        listed = " | ".join(_overlays(page))
        assert "your grid cells" in listed and "service station" in listed
        assert page.locator(".wg-panel").first.inner_text().count("网格") >= 2
        markers = page.locator(".leaflet-marker-pane .awesome-marker")
        assert markers.count() >= 2
        page.screenshot(path=str(artifacts / "map_residents.png"))
        # the hostile service point name, in its tooltip and popup, stays text
        html = page.content()
        assert "window.__xss" not in page.evaluate("() => String(window.__xss)")
        found = page.evaluate(
            """() => {
                const icons = document.querySelectorAll('.leaflet-marker-pane .awesome-marker');
                for (const el of icons) {
                    el.dispatchEvent(new MouseEvent('click', {bubbles: true}));
                    const box = document.querySelector('.leaflet-popup-content');
                    if (box && box.textContent.includes('__xss')) return true;
                }
                return false;
            }"""
        )
        assert found
        assert "<script>window.__xss=1</script>" in page.inner_text(".leaflet-popup-content")
        assert page.evaluate("() => window.__xss || window.__xss2 || window.__xss3") is None
        with engine.connect() as c:
            device_ids = c.execute(text("SELECT device_id FROM cameras")).scalars().all()
        assert not any(d in html for d in device_ids)
    finally:
        context.close()


def test_resident_page_without_a_point_asks_for_location(browser, live_url, artifacts) -> None:
    context, page, visit, response = open_page(browser, live_url + "/maps/residents")
    try:
        assert response.status == 200
        _check_clean(visit, live_url)
        assert "location unavailable" in page.inner_text("#wg-locate-msg")
        page.screenshot(path=str(artifacts / "map_residents_locate.png"))
    finally:
        context.close()


def test_staff_pages_refuse_without_a_key(client: TestClient, test_db) -> None:
    for _, path, _, _, _ in PAGES:
        assert client.get(path).status_code == 401
    assert client.get("/maps/dispatch", headers=test_db.headers("planner")).status_code == 403
    assert client.get("/maps/dispatch", headers=test_db.headers("grid_worker")).status_code == 403


def _legends(page) -> list[dict]:
    """Every legend section: its title, whether it shows, and its swatches' colours."""
    return page.eval_on_selector_all(
        ".wg-legend",
        """els => els.map(e => ({
            title: e.querySelector('h4').textContent,
            shown: e.offsetParent !== null,
            colours: [...e.querySelectorAll('i')].map(i => getComputedStyle(i).backgroundColor),
        }))""",
    )


def _toggle(page, label_part: str) -> None:
    """Click a layer's checkbox in the layer control, as a user would."""
    page.locator(".leaflet-control-layers-overlays label", has_text=label_part).locator(
        "input"
    ).click()
    page.wait_for_timeout(300)


def test_coverage_aggregates_gaps_and_legends_follow_layers(
    browser, live_url, test_db, client: TestClient
) -> None:
    summary = client.get("/analytics/coverage", headers=test_db.headers("planner")).json()
    gaps = summary["summary"]["gaps"]["total"]
    context, page, visit, _ = open_page(
        browser, live_url + "/maps/coverage", test_db.headers("planner")
    )
    try:
        _check_clean(visit, live_url)
        colours = [c for legend in _legends(page) for c in legend["colours"]]
        assert len(colours) >= 10 and len(set(colours)) == len(colours), colours
        # gaps per community by default: the circles' numbers add up to every gap
        counts = page.eval_on_selector_all(
            ".leaflet-marker-pane .wg-count", "els => els.map(e => Number(e.textContent))"
        )
        assert counts and sum(counts) == gaps
        shown = {lg["title"]: lg["shown"] for lg in _legends(page)}
        reasons = next(t for t in shown if "why a target is a gap" in t)
        courtyards = next(t for t in shown if "courtyards" in t)
        assert shown[courtyards] and not shown[reasons]  # single gaps are off: no legend
        _toggle(page, "gap targets")
        _toggle(page, "courtyards by covered share")
        shown = {lg["title"]: lg["shown"] for lg in _legends(page)}
        assert shown[reasons] and not shown[courtyards]
        assert _registry(page)[next(k for k in _registry(page) if "gap targets" in k)] == (gaps)
    finally:
        context.close()


def test_dispatch_map_says_how_many_it_draws(browser, live_url, test_db, engine) -> None:
    with engine.connect() as c:
        open_now = c.execute(
            text("SELECT count(*) FROM incidents WHERE status = ANY(:s)"),
            {"s": list(OPEN_STATUSES)},
        ).scalar_one()
    context, page, visit, _ = open_page(
        browser, live_url + "/maps/dispatch?limit=5", test_db.headers("dispatcher")
    )
    try:
        _check_clean(visit, live_url)
        panel = page.locator(".wg-panel", has_text="调度队列").inner_text()
        assert f"showing the newest 5 of {open_now:,}" in panel
        assert "已立案 filed" in panel and "live board" in panel
        registry = _registry(page)
        assert registry[f"未结案件 open cases (5 / {open_now:,})"] == 5
        colours = [c for legend in _legends(page) for c in legend["colours"]]
        worker = _legends(page)[-1]["colours"]
        assert worker and worker[0] not in colours[:-1]  # no status shares the workers' colour
    finally:
        context.close()


def test_report_at_street_zoom_draws_the_offline_base_map(browser, live_url, engine) -> None:
    with engine.connect() as c:
        lon, lat = c.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM buildings"
                " ORDER BY id LIMIT 1) b"
            )
        ).one()
    context, page, visit, _ = open_page(browser, live_url + "/report", wait_ms=300)
    try:
        page.evaluate(f"() => window.wanggeReport.map.setView([{lat}, {lon}], 16)")
        page.wait_for_function("() => window.wanggeBase.idle && window.wanggeBase.tiles >= 4")
        _check_clean(visit, live_url)
        base = page.evaluate("() => window.wanggeBase")
        assert base["features"] > 0 and base["failed"] == 0
        painted = page.evaluate(
            """() => [...document.querySelectorAll('canvas.wg-base-tile')].map(c => {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })"""
        )
        assert sum(1 for n in painted if n) >= 1, painted
        assert any("/ogc/collections/buildings/tiles/" in u for u in visit.requests)
    finally:
        context.close()
