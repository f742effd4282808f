"""A grid worker's handheld in real Chromium: sign in, go on duty, positions, offline, sign once.

360×740 viewport, Playwright's geolocation; the worker signs in through the sign-in
form (a session cookie, no key in the page), writes through the session with its
CSRF token, goes offline, signs a case (queued in the page), comes back online,
and the signing arrives exactly once.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.conftest import TEST_NOW

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def worker(live_url: str, test_db, engine: Engine) -> dict:
    """The demo grid worker, off duty, with one case dispatched to them."""
    headers = test_db.headers("grid_worker")
    answer = httpx.post(f"{live_url}/workers/me/duty", json={"on_duty": False}, headers=headers)
    assert answer.status_code == 200, answer.text
    worker_id = answer.json()["worker_id"]
    with engine.begin() as c:
        lon, lat = c.execute(
            text(
                "SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))"
                " FROM workers w JOIN grid_cells g ON g.code = w.cell_code WHERE w.id = :w"
                " ORDER BY g.id DESC LIMIT 1"
            ),
            {"w": worker_id},
        ).one()
        case_id = c.execute(
            text(
                "UPDATE incidents SET status = 'dispatched', assignee_worker_id = :w,"
                " description = '<img src=x onerror=window.__xss=1>${1}',"
                " due_at = CAST(:now AS timestamptz) + interval '2 hours'"
                " WHERE id = (SELECT min(id) FROM incidents) RETURNING id"
            ),
            {"w": worker_id, "now": TEST_NOW},
        ).scalar()
        signs = c.execute(
            text("SELECT count(*) FROM incident_events WHERE incident_id = :i AND action = 'sign'"),
            {"i": case_id},
        ).scalar()
    return {"id": worker_id, "case_id": case_id, "lon": lon, "lat": lat, "signs": signs}


def _duty_and_track(engine: Engine, worker_id: int) -> tuple[bool, int]:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT w.on_duty, (SELECT count(*) FROM worker_positions p"
                    " WHERE p.worker_id = w.id) FROM workers w WHERE w.id = :w"
                ),
                {"w": worker_id},
            ).one()
        )


def _signs_and_status(engine: Engine, case_id: int) -> tuple[int, str]:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT (SELECT count(*) FROM incident_events WHERE incident_id = i.id"
                    " AND action = 'sign'), i.status FROM incidents i WHERE i.id = :i"
                ),
                {"i": case_id},
            ).one()
        )


def test_handheld_on_duty_positions_offline_sign_arrives_once(
    browser, live_url, test_db, worker, engine: Engine, artifacts: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        geolocation={"longitude": worker["lon"], "latitude": worker["lat"], "accuracy": 8},
        permissions=["geolocation"],
    )
    blocked: list[str] = []
    dialogs: list[str] = []
    context.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith(live_url)
            else (blocked.append(r.request.url), r.abort())
        ),
    )
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{live_url}/login?next=/handheld")
        page.fill("input[name=key]", test_db.keys["grid_worker"])
        page.click("input[type=submit]")
        page.wait_for_url("**/handheld")
        item = page.locator(f'#wg-cases li[data-id="{worker["case_id"]}"]')
        item.filter(has_text=" m ").or_(item.filter(has_text=" m\n")).first.wait_for(
            timeout=10_000
        )  # with the distance from me
        assert "onerror" in item.locator(".wg-text").inner_text()  # as text
        page.check("#wg-duty")
        page.wait_for_function("() => window.wanggeHand.positions >= 1", timeout=10_000)
        on_duty, tracked = _duty_and_track(engine, worker["id"])
        assert on_duty and tracked >= 1
        context.set_offline(True)
        sign = item.locator('button[data-action="sign"]')
        sign.click()
        sign.click()  # two taps: ask, confirm
        page.wait_for_function("() => document.getElementById('wg-queued').textContent === '1'")
        page.screenshot(path=str(artifacts / "face_handheld_offline.png"), full_page=True)
        context.set_offline(False)
        page.wait_for_function(
            "() => document.getElementById('wg-queued').textContent === '0'", timeout=10_000
        )
        page.wait_for_timeout(300)
        signs, status = _signs_and_status(engine, worker["case_id"])
        assert signs == worker["signs"] + 1 and status == "signed"  # once, though queued
        assert blocked == [] and dialogs == []
        assert page.evaluate("() => window.__xss") is None
        page.screenshot(path=str(artifacts / "face_handheld.png"), full_page=True)
    finally:
        context.close()


def test_a_session_without_its_csrf_token_stays_read_only(live_url, test_db) -> None:
    with httpx.Client(base_url=live_url) as client:
        signed = client.post("/login", data={"key": test_db.keys["grid_worker"], "next": "/"})
        assert signed.status_code == 303
        assert client.get("/handheld").status_code == 200  # the cookie reads
        refused = client.post("/workers/me/duty", json={"on_duty": True})
        assert refused.status_code == 401  # the cookie alone is no write
        forged = client.post(
            "/workers/me/duty", json={"on_duty": True}, headers={"X-CSRF-Token": "0" * 64}
        )
        assert forged.status_code == 401


def test_nearest_workers_leave_out_stale_positions(app, live_url, test_db, worker, engine) -> None:
    url = f"{live_url}/incidents/{worker['case_id']}/nearest-workers?k=3"
    headers = test_db.headers("dispatcher")
    nearest = httpx.get(url, headers=headers).json()[0]["id"]
    with engine.begin() as c:
        c.execute(
            text("UPDATE workers SET position_at = position_at - interval '3 hours' WHERE id = :w"),
            {"w": nearest},
        )
    app.state.settings.cases.position_stale_minutes = 60.0
    try:
        assert nearest not in [w["id"] for w in httpx.get(url, headers=headers).json()]
    finally:
        app.state.settings.cases.position_stale_minutes = None
    assert nearest in [w["id"] for w in httpx.get(url, headers=headers).json()]


def test_report_what_i_see_is_filed_as_the_worker_through_the_session(
    live_url, test_db, worker, engine: Engine
) -> None:
    with httpx.Client(base_url=live_url) as client:
        client.post("/login", data={"key": test_db.keys["grid_worker"], "next": "/"})
        page = client.get("/report").text
        assert '"channel":"handheld"' in page and '"autolocate":true' in page
        csrf = page.split('"csrf":"')[1].split('"')[0]
        body = {
            "location": {"lon": worker["lon"], "lat": worker["lat"]},
            "category": "0101",
            "channel": "handheld",
            "description": "巡查发现 seen on patrol",
        }
        filed = client.post("/incidents", json=body, headers={"X-CSRF-Token": csrf})
        assert filed.status_code == 201, filed.text
    with engine.connect() as c:
        role, channel = c.execute(
            text(
                "SELECT e.role, i.channel_code FROM incidents i JOIN incident_events e"
                " ON e.incident_id = i.id AND e.action = 'report' WHERE i.id = :i"
            ),
            {"i": filed.json()["id"]},
        ).one()
    assert (role, channel) == ("grid_worker", "handheld")
    assert '"csrf":null' in httpx.get(f"{live_url}/report").text  # residents get none


def test_records_here_and_a_field_change_from_there(
    browser, live_url, test_db, worker, engine: Engine
) -> None:
    """At an entrance of my cell: its dwellings and residents (masked); a flat's use changed."""
    with engine.connect() as c:
        spot = c.execute(
            text(
                "SELECT ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, w.id, w.use FROM addresses a"
                " JOIN dwellings w ON w.address_id = a.id JOIN grid_cells g"
                " ON g.code = (SELECT cell_code FROM workers WHERE id = :w)"
                " AND ST_Covers(ST_Buffer(g.geom, -0.0005), a.geom) ORDER BY w.id LIMIT 1"
            ),
            {"w": worker["id"]},
        ).one()
    use = "vacant" if spot.use != "vacant" else "rented"
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        geolocation={"longitude": spot.lon, "latitude": spot.lat, "accuracy": 5},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        page.goto(f"{live_url}/login?next=/handheld")
        page.fill("input[name=key]", test_db.keys["grid_worker"])
        page.click("input[type=submit]")
        page.wait_for_url("**/handheld")
        page.click("#wg-here-go")
        flat = page.locator(f'.wg-here-dwelling[data-id="{spot.id}"]')
        flat.wait_for(timeout=10_000)
        assert "**********" in page.inner_text("#wg-here-list")  # ID numbers masked
        flat.locator("select").select_option(use)
        flat.locator("button").click()
        page.wait_for_function("() => window.wanggeHere.changed === 1", timeout=10_000)
        with engine.connect() as c:
            now = c.execute(text("SELECT use FROM dwellings WHERE id = :i"), {"i": spot.id})
            assert now.scalar_one() == use
    finally:
        context.close()
