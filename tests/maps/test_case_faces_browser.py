"""A resident in real Chromium: report on a GCJ-02 basemap, follow the case live, rate it.

One scripted person through the whole resident loop, against a live server on
127.0.0.1: the tap lands in the right cell although the basemap is GCJ-02, a
double tap files one case, the follow page hears a status change pushed within
2 s, the rating after closure is stored and audited, and hostile text in the
description shows as text everywhere.  Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.core.crs import from_wgs84
from layers.store.settings import DatabaseSettings
from layers.tables.grid_cells import LIVE
from maps.settings import MapsSettings
from tests.conftest import TEST_CLOCK
from tests.maps.conftest import PageVisit

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=window.__xss=1></script>${window.__xss2=1}`水管漏水`"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def phone_photo(colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A JPEG as phones write them: maker, model and the GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "PhoneMaker", "X1"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (30.0, 40.0, 1.5)
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def app(test_db, media_dir: Path) -> FastAPI:
    """The app with a GCJ-02 basemap (its URL is set once the server's port is known)."""
    maps = MapsSettings(tiles_url="http://127.0.0.1/tiles/{z}/{x}/{y}.png", tiles_crs="gcj02")
    settings = Settings(
        db=DatabaseSettings(database_url=test_db.url), maps=maps, media_dir=media_dir
    )
    return create_app(settings, clock=TEST_CLOCK)


@pytest.fixture(scope="module")
def site(app: FastAPI, live_url: str) -> str:
    """The live server, its basemap tiles served (by the test) from its own origin."""
    app.state.settings.maps.tiles_url = live_url + "/tiles/{z}/{x}/{y}.png"
    return live_url


@pytest.fixture(scope="module")
def spot(engine: Engine) -> dict:
    """A point well inside a live level-1 cell (WGS-84 and as the GCJ-02 basemap draws it)."""
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT id, code, ST_X(m.center) AS lon, ST_Y(m.center) AS lat FROM grid_cells g,"
                " LATERAL ST_MaximumInscribedCircle(g.geom) m"
                f" WHERE g.level = 1 AND {LIVE.replace('valid_to', 'g.valid_to')}"
                " ORDER BY m.radius DESC LIMIT 1"
            )
        ).one()
    gx, gy = from_wgs84(row.lon, row.lat, "gcj02")
    return {
        "cell_id": row.id,
        "code": row.code,
        "lon": row.lon,
        "lat": row.lat,
        "gcj": (float(gx), float(gy)),
    }


@pytest.fixture(scope="module")
def resident(browser, site: str):
    """One resident's phone: a 360×740 context; non-local requests are aborted and noted."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    visit = PageVisit()
    dialogs: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(site + "/tiles/"):
            r.fulfill(status=200, content_type="image/png", body=PNG)
        elif url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            r.continue_()
        else:
            visit.blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: visit.requests.append(req.url))
    page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield page, visit, dialogs
    context.close()


def _tap(page, lon: float, lat: float) -> None:
    """Centre the map near the point, then click the pixel where it is drawn."""
    page.wait_for_function("() => window.wanggeReport && !window.wanggeReport.map._animatingZoom")
    page.evaluate(
        "([lat, lon]) => window.wanggeReport.map.setView([lat, lon], 18, {animate: false})",
        [lat, lon],
    )
    xy = page.evaluate(
        "([lat, lon]) => { const p = window.wanggeReport.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def _choose_category(page, code: str) -> None:
    page.select_option("#wg-major", code[:2])
    page.select_option("#wg-minor", code)


def _one_case_in_its_cell(engine: Engine, case_id: int, spot: dict, media_dir: Path) -> None:
    """One case for two taps, in the cell under the tap, sent as GCJ-02; its photo without EXIF."""
    gx = spot["gcj"][0]
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT id, l1_cell_id, reported_crs, reported_lon, reported_lat FROM incidents"
                " WHERE description = :d"
            ),
            {"d": HOSTILE},
        ).all()
    assert len(rows) == 1, rows  # two taps, one key, one case
    row = rows[0]
    assert row.id == case_id and row.l1_cell_id == spot["cell_id"]
    assert row.reported_crs == "gcj02" and abs(row.reported_lon - gx) < 1e-4
    with engine.connect() as c:
        stored = c.execute(
            text("SELECT sha256, content_type FROM case_photos WHERE incident_id = :i"),
            {"i": case_id},
        ).all()
    assert len(stored) == 1 and stored[0].content_type == "image/jpeg"
    kept = Image.open(media_dir / stored[0].sha256[:2] / f"{stored[0].sha256}.jpg")
    assert dict(kept.getexif()) == {}  # no GPS, no maker, no model


def test_report_on_gcj02_lands_in_its_cell_and_a_double_tap_files_one(
    resident, site, spot, engine: Engine, artifacts: Path, media_dir: Path
) -> None:
    page, visit, dialogs = resident
    page.goto(site + "/report", wait_until="load")
    gx, gy = spot["gcj"]
    _tap(page, gx, gy)
    cell = page.locator('#wg-where [data-k="cell"]')
    cell.filter(has_text=spot["code"]).wait_for(timeout=5000)
    assert page.locator('#wg-where [data-k="worker"]').inner_text() != "—"
    with engine.connect() as c:
        category = c.execute(text("SELECT min(code) FROM categories")).scalar()
    neighbour = httpx.post(  # a neighbour reported the same thing here an hour ago
        f"{site}/incidents",
        json={
            "location": {"lon": spot["lon"], "lat": spot["lat"]},
            "category": category,
            "channel": "wechat",
            "description": "邻居的私事 private",
            "reporter_name": "王五",
            "reporter_phone": "13900002222",
        },
    ).json()["id"]
    _choose_category(page, category)
    nearby = page.locator("#wg-nearby")
    nearby.wait_for(state="visible", timeout=5000)
    shown = nearby.inner_text()
    assert f"#{neighbour}" in shown  # offered to follow, with nothing personal
    assert "13900002222" not in shown and "王五" not in shown and "私事" not in shown
    page.screenshot(path=str(artifacts / "face_report_nearby.png"), full_page=True)
    page.fill("#wg-desc", HOSTILE)
    page.fill("#wg-phone", "13800001111")
    photo = {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    page.set_input_files("#wg-photos", files=[photo])
    page.dblclick("#wg-submit")
    page.locator("#wg-done").wait_for(state="visible", timeout=10_000)
    page.locator("#wg-photo-note", has_text="1/1").wait_for(timeout=5000)
    case_id = int(page.inner_text("#wg-case-id"))
    assert len(page.inner_text("#wg-case-token")) > 20
    _one_case_in_its_cell(engine, case_id, spot, media_dir)
    posts = [u for u in visit.requests if u.endswith("/incidents")]
    assert len(posts) == 2  # both taps were sent, with the same Idempotency-Key
    page.screenshot(path=str(artifacts / "face_report_done.png"), full_page=True)
    assert dialogs == [] and visit.blocked == [] and visit.page_errors == []
    spot["case_id"] = case_id


def _act(site: str, headers: dict, case_id: int, action: str) -> None:
    case = httpx.get(f"{site}/incidents/{case_id}", headers=headers).json()
    answer = httpx.post(
        f"{site}/incidents/{case_id}/transitions",
        json={"action": action, "version": case["version"]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text


def test_following_the_case_hears_a_status_change_within_2_s(
    resident, site, spot, test_db, artifacts: Path
) -> None:
    page, visit, dialogs = resident
    page.click("#wg-follow")
    status = page.locator("#wg-status")
    status.wait_for(state="visible", timeout=10_000)
    assert status.get_attribute("data-status") == "reported"
    assert page.inner_text("#wg-desc") == HOSTILE  # shown as text, not markup
    page.locator("#wg-photos img").wait_for(timeout=5000)  # fetched with the token, as a blob
    page.wait_for_timeout(500)  # the stream is open
    started = time.monotonic()
    _act(site, test_db.headers("dispatcher"), spot["case_id"], "accept")
    page.locator('#wg-status[data-status="accepted"]').wait_for(timeout=2000)
    assert time.monotonic() - started < 2.0
    assert page.evaluate("() => window.wanggeCase.pushes") >= 1
    token = page.evaluate(f"() => sessionStorage.getItem('wangge-case-{spot['case_id']}')")
    assert token and not [u for u in visit.requests if token in u]  # never in a URL
    assert page.evaluate("() => window.__xss || window.__xss2") is None and dialogs == []
    page.screenshot(path=str(artifacts / "face_my_case.png"), full_page=True)


def test_the_reporter_rates_after_closure_once(
    resident, site, spot, engine: Engine, artifacts: Path
) -> None:
    page, visit, dialogs = resident
    case_id = spot["case_id"]
    assert page.locator("#wg-rate").is_hidden()
    with engine.begin() as c:  # the rest of the loop, as the staff's clients would leave it
        c.execute(
            text(
                "UPDATE incidents SET status = 'closed', closed_at = updated_at,"
                " version = version + 1 WHERE id = :id"
            ),
            {"id": case_id},
        )
        c.execute(
            text(
                "INSERT INTO incident_events (incident_id, at, actor, role, action, from_status,"
                " to_status) SELECT id, updated_at, 'test', 'dispatcher', 'close', 'checking',"
                " 'closed' FROM incidents WHERE id = :id"
            ),
            {"id": case_id},
        )
    page.locator("#wg-rate").wait_for(state="visible", timeout=3000)
    page.check('input[name="score"][value="4"]')
    page.fill("#wg-comment", HOSTILE)
    page.click("#wg-rate button[type=submit]")
    page.locator("#wg-rated").wait_for(state="visible", timeout=5000)
    assert HOSTILE in page.inner_text("#wg-rated")
    page.locator('#wg-status[data-status="evaluated"]').wait_for(timeout=3000)
    with engine.connect() as c:
        score = c.execute(
            text("SELECT score FROM case_ratings WHERE incident_id = :id"), {"id": case_id}
        ).scalar()
        audited = c.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'rate' AND entity = 'incident'"
                " AND entity_id = :id"
            ),
            {"id": str(case_id)},
        ).scalar()
    assert score == 4 and audited == 1
    token = page.evaluate(f"() => sessionStorage.getItem('wangge-case-{case_id}')")
    again = httpx.post(
        f"{site}/incidents/{case_id}/rating", json={"score": 1}, headers={"X-Case-Token": token}
    )
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert dialogs == [] and visit.blocked == [] and visit.page_errors == []
    assert all(u.startswith(site) or u.startswith("data:") for u in visit.requests)
    page.screenshot(path=str(artifacts / "face_my_case_rated.png"), full_page=True)


def test_photos_are_checked_by_content_and_private_to_the_case(
    site, spot, resident, test_db
) -> None:
    page, _visit, _dialogs = resident
    case_id = spot["case_id"]
    token = page.evaluate(f"() => sessionStorage.getItem('wangge-case-{case_id}')")
    url = f"{site}/incidents/{case_id}/photos"
    mine = {"X-Case-Token": token}
    fake = httpx.post(url, headers=mine, files={"file": ("x.jpg", b"<svg/>", "image/jpeg")})
    assert fake.status_code == 422 and fake.json()["code"] == "unsupported_photo_type"
    big = httpx.post(url, headers=mine, files={"file": ("x.jpg", b"\xff" * (10 * 2**20 + 1))})
    assert big.status_code == 400 and big.json()["code"] == "photo_too_large"
    listed = httpx.get(url, headers=mine).json()
    assert len(listed) == 1
    assert httpx.get(site + listed[0]["thumbnail_url"], headers=mine).status_code == 200
    assert httpx.get(site + listed[0]["url"]).status_code == 404  # no token: not yours
    assert httpx.get(url, headers={"X-Case-Token": "wrong"}).status_code == 404
    jpeg = {"file": ("after.jpg", phone_photo((40, 160, 60)), "image/jpeg")}
    not_mine = httpx.post(url, headers=mine, files=jpeg, data={"kind": "after"})
    assert not_mine.status_code == 400  # residents add report photos only
    staff = httpx.post(
        url, headers=test_db.headers("dispatcher"), files=jpeg, data={"kind": "after"}
    )
    assert staff.status_code == 201 and staff.json()["kind"] == "after"  # 处置后
    assert [p["kind"] for p in httpx.get(url, headers=mine).json()] == ["report", "after"]


def test_the_stream_resumes_after_last_event_id(site, spot, resident) -> None:
    page, _visit, _dialogs = resident
    case_id = spot["case_id"]
    token = page.evaluate(f"() => sessionStorage.getItem('wangge-case-{case_id}')")
    mine = {"X-Case-Token": token}
    events = httpx.get(f"{site}/incidents/{case_id}/events", headers=mine).json()
    assert len(events) >= 3
    url = f"{site}/incidents/{case_id}/stream"
    assert httpx.get(url, headers=mine).status_code == 406  # a stream only for who asks for one
    assert httpx.get(url, headers={"Accept": "text/event-stream"}).status_code == 404
    wanted = {**mine, "Accept": "text/event-stream", "Last-Event-ID": str(events[0]["id"])}
    ids = []
    with httpx.stream("GET", url, headers=wanted, timeout=5) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            if len(ids) == len(events) - 1:
                break
    assert ids == [e["id"] for e in events[1:]]  # what was missed, in order, nothing twice
