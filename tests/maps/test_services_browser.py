"""The resident pages in Chromium on a 360 px screen: the services tab (issue 14), by address (13).

A resident searches the catalogue in Chinese, sees what to bring, books the
nearest free slot and cancels it; the database holds the booking, then the
cancellation.  No request leaves 127.0.0.1 and the page logs no error (the
browser's own favicon probe aside).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import text


def test_a_resident_books_and_cancels_from_the_map(browser, live_url, engine, artifacts: Path):
    with engine.connect() as conn:
        offer = conn.execute(
            text(
                "SELECT si.code, si.name, ST_X(sp.geom) AS lon, ST_Y(sp.geom) AS lat "
                "FROM service_offers o JOIN service_points sp ON sp.id = o.service_point_id "
                "JOIN service_items si ON si.id = o.item_id WHERE sp.kind = 'service_station' "
                "AND si.bookable AND si.name LIKE '%最低生活保障%' ORDER BY si.code LIMIT 1"
            )
        ).one()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None
    )
    page.on("request", lambda r: None if r.url.startswith(live_url) else outside.append(r.url))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{live_url}/maps/residents?lon={offer.lon}&lat={offer.lat}", wait_until="load")
        assert not page.is_visible(".wg-svc-q")  # on a phone the tab starts closed
        page.click(".wg-svc-toggle")
        page.fill(".wg-svc-q", "最低生活保障")
        page.click(".wg-svc-go")
        page.get_by_role("button", name=offer.name).click()
        page.wait_for_selector(".wg-svc-slot", timeout=10_000)
        assert "居民身份证复印件" in page.inner_text(".wg-svc-out")
        assert "straight-line" in page.inner_text(".wg-svc-out")
        page.locator(".wg-svc-slot").first.click()
        page.wait_for_selector(".wg-svc-ok", timeout=10_000)
        booked = page.inner_text(".wg-svc-ok")
        appt_id = int(booked.split("#")[1].split(" ")[0])
        with engine.connect() as conn:
            status = text("SELECT status FROM appointments WHERE id = :i")
            assert conn.execute(status, {"i": appt_id}).scalar_one() == "booked"
        box = page.locator(".wg-services").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        page.screenshot(path=str(artifacts / "map_residents_services.png"))
        page.click(".wg-svc-cancel")
        page.wait_for_selector(".wg-svc-cancelled", timeout=10_000)
        with engine.connect() as conn:
            assert conn.execute(status, {"i": appt_id}).scalar_one() == "cancelled"
        assert [e for e in errors if "/favicon.ico" not in e] == [] and outside == []
    finally:
        context.close()


def _pick_address(page, box: str, typed: str, full_text: str) -> None:
    """Type an address into the search box `box` and pick the suggestion naming `full_text`."""
    page.fill(box, typed)
    page.locator(".wg-addr-hit", has_text=full_text).first.click(timeout=10_000)


def test_a_resident_finds_their_grid_by_address(browser, live_url, engine, artifacts: Path):
    """/report and the resident map: a messy spelling, the pick, the cell /locate gives there."""
    with engine.connect() as conn:
        a = conn.execute(
            text(
                "SELECT full_text, road, number, building_no, ST_X(geom) AS lon, ST_Y(geom) AS lat"
                " FROM addresses WHERE unit_no = 1 AND building_no IS NOT NULL ORDER BY id LIMIT 1"
            )
        ).one()
    wide = str(a.number).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    typed = f"{a.road}{wide}號{a.building_no}幢1单元"  # full-width digits, 號, 幢
    located = httpx.get(f"{live_url}/locate", params={"lon": a.lon, "lat": a.lat}).json()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_url}/report", wait_until="load")
        page.fill("#wg-addr", "<img src=x onerror=window.__xss=1>")
        page.locator("#wg-addr-list li").first.wait_for(timeout=10_000)
        assert page.evaluate("() => window.__xss") is None  # shown as text, never as HTML
        _pick_address(page, "#wg-addr", typed, a.full_text)
        cell = page.locator('#wg-where [data-k="cell"]')
        cell.filter(has_text=located["l1"]["code"]).wait_for(timeout=10_000)
        assert page.locator('#wg-where [data-k="worker"]').inner_text() == (
            located["worker"]["name"] if located.get("worker") else "—"
        )
        pin = page.evaluate("() => window.wanggeReport.state.point")
        assert abs(pin["lon"] - a.lon) < 1e-5 and abs(pin["lat"] - a.lat) < 1e-5
        page.screenshot(path=str(artifacts / "face_report_by_address.png"), full_page=True)
        page.goto(f"{live_url}/maps/residents?lon=104.1&lat=30.68", wait_until="load")
        _pick_address(page, "#wg-res-addr", typed, a.full_text)
        page.wait_for_url("**/maps/residents?*crs=wgs84*", timeout=10_000)
        page.wait_for_load_state("load")
        assert located["l1"]["code"] in page.inner_text(".wg-panel")
        assert errors == []
    finally:
        context.close()
