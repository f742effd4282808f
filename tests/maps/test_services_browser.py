"""The resident pages in Chromium on a 360 px screen: the services tab (issue 14), by address (13).

A resident searches the catalogue in Chinese, sees what to bring, books the
nearest free slot and cancels it; the database holds the booking, then the
cancellation.  No request leaves 127.0.0.1 and the page logs no error (the
browser's own favicon probe aside).

The station desk (服务站工作台), in the same module to share its live server: a
resident books the nearest free slot of a station (hostile text in their name),
station staff register a walk-in proxy request and take it to the owning
department; a grid worker opens the desk for the booked day and sees the
appointment (contact masked, shown as text), the proxy task and the department's
queue with the accepting station; the previous-day link shows that day's walk-in.
Reading the day is audited; a resident gets no page.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from layers.tables.clocks import LOCAL_TZ
from tests.conftest import TEST_NOW
from tests.maps.conftest import open_page


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


def _work(live_url: str, test_db, engine: Engine) -> dict:
    """The booking and the walk-in taken to the department; what the page must show."""
    with engine.connect() as conn:
        offer = conn.execute(
            text(
                "SELECT sp.code AS point, si.code AS item, si.name, si.materials, "
                "si.department_code, ST_X(sp.geom) AS lon, ST_Y(sp.geom) AS lat "
                "FROM service_offers o JOIN service_points sp ON sp.id = o.service_point_id "
                "JOIN service_items si ON si.id = o.item_id WHERE sp.kind = 'service_station' "
                "AND si.bookable AND NOT si.online ORDER BY sp.code, si.code LIMIT 1"
            )
        ).one()
    near = httpx.get(
        f"{live_url}/services/{offer.item}/nearest", params={"lon": offer.lon, "lat": offer.lat}
    ).json()
    assert near["points"][0]["code"] == offer.point
    slot = near["points"][0]["next_free_slots"][0]["starts_at"]
    booked = httpx.post(
        f"{live_url}/services/appointments",
        json={
            "item": offer.item,
            "service_point": offer.point,
            "starts_at": slot,
            "materials": list(offer.materials),
            "contact_name": "<b>张三</b>",
            "contact_phone": "13812345678",
        },
    )
    assert booked.status_code == 201, booked.text
    staff = test_db.headers("grid_worker")
    made = httpx.post(
        f"{live_url}/services/proxy",
        json={"item": offer.item, "channel": "walk_in", "contact_name": "李四"},
        headers=staff,
    )
    assert made.status_code == 201, made.text
    rid, follow = made.json()["id"], made.json()["proxy_token"]
    for step in (
        {"action": "accept", "service_point": offer.point},
        {"action": "collect", "materials": list(offer.materials)},
        {"action": "submit"},
    ):
        answer = httpx.post(
            f"{live_url}/services/proxy/{rid}/transitions", json=step, headers=staff
        )
        assert answer.status_code == 200, answer.text
    day = datetime.fromisoformat(slot.replace("Z", "+00:00")).astimezone(LOCAL_TZ).date()
    return {"offer": offer, "rid": rid, "follow": follow, "day": day}


def test_staff_see_the_day_and_the_department_queue_on_the_desk(
    browser, live_url, test_db, engine: Engine
):
    work = _work(live_url, test_db, engine)
    offer, rid = work["offer"], work["rid"]
    assert work["day"] > TEST_NOW.astimezone(LOCAL_TZ).date()  # the walk-in is the day before
    url = (
        f"{live_url}/services/desk?station={offer.point}&date={work['day']}"
        f"&department={offer.department_code}"
    )
    anonymous = httpx.get(url)
    assert anonymous.status_code in (401, 403), anonymous.status_code
    context, page, visit, response = open_page(
        browser, url, headers=test_db.headers("grid_worker"), wait_ms=200
    )
    try:
        assert response.status == 200
        appointments = page.inner_text(".wg-desk-appointments")
        assert offer.name in appointments and "138****5678" in appointments
        assert "张三" not in appointments and "<****" in appointments  # masked, as text
        assert page.locator(".wg-desk-appointments td b").count() == 0
        assert f"#{rid}" in page.inner_text(".wg-desk-tasks")
        queue = page.inner_text(".wg-desk-queue")
        assert f"#{rid}" in queue and offer.point in queue
        page.click("text=前一天 Previous day")
        page.wait_for_selector(".wg-desk-walkins")
        assert int(page.inner_text(".wg-desk-walkins")) >= 1
        assert visit.blocked == [] and visit.page_errors == []
    finally:
        context.close()
    with engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE entity = 'appointments' "
                "AND entity_id = :p AND data->>'face' = 'services_day_view'"
            ),
            {"p": offer.point},
        ).scalar_one()
    assert audited >= 1
    _resident_follows(browser, live_url, work)


def _resident_follows(browser, live_url: str, work: dict) -> None:
    """The resident follows the request on the map's services tab, each step with its limit."""
    offer = work["offer"]
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{live_url}/maps/residents?lon={offer.lon}&lat={offer.lat}", wait_until="load")
        page.click(".wg-svc-toggle")
        page.fill(".wg-svc-pid", str(work["rid"]))
        page.fill(".wg-svc-ptok", work["follow"])
        page.click(".wg-svc-follow")
        page.wait_for_selector(".wg-svc-pdue", timeout=10_000)
        steps = page.locator(".wg-svc-step").all_inner_texts()
        assert [s.split(" → ")[1].split(" ")[0] for s in steps][-3:] == [
            "accepted",
            "materials_collected",
            "submitted",
        ]
        assert all("时限 due" in s for s in steps[-3:])
        assert "submitted" in page.inner_text(".wg-svc-out")
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
        panel = page.locator(".wg-panel").first
        if "wg-folded" in (panel.get_attribute("class") or ""):  # folded at 360 px: unfold it
            panel.locator(".wg-fold").click()
        assert located["l1"]["code"] in panel.inner_text()
        assert errors == []
    finally:
        context.close()
