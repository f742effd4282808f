"""Two dispatchers on the live board in real Chromium: a resident's case appears, one wins it.

Against a live server on 127.0.0.1: a street sub-centre's dispatcher (whose board
opens on their street) and the district's dispatcher each sign in through the form
in their own browser context.  A resident files a case with hostile text; both
boards show it without reload (pushed), as text.  A grid worker's new position moves
their marker.  Both dispatchers select the case and click the nearest worker at
once: one dispatches it, the other is told who was faster and sees it refreshed.
A stream resumed with an old ``Last-Event-ID`` hands on what was missed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.maps.test_case_faces_browser import HOSTILE

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def place(live_url: str, test_db, engine: Engine) -> dict:
    """A spot in a live cell, its street, and a second dispatcher posted at that street."""
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT ST_X(m.center) AS lon, ST_Y(m.center) AS lat, s.code AS street"
                " FROM grid_cells g CROSS JOIN LATERAL ST_MaximumInscribedCircle(g.geom) m"
                " JOIN streets s ON ST_Contains(s.geom, m.center)"
                " WHERE g.level = 1 AND g.valid_to IS NULL ORDER BY m.radius DESC LIMIT 1"
            )
        ).one()
    admin = test_db.headers("admin")
    made = httpx.post(
        f"{live_url}/admin/keys", json={"role": "dispatcher", "name": "街道调度员乙"}, headers=admin
    )
    assert made.status_code == 201, made.text
    posted = httpx.post(
        f"{live_url}/platform/units/S{row.street}/staff",
        json={"key_id": made.json()["id"]},
        headers=admin,
    )
    assert posted.status_code == 201, posted.text
    with engine.connect() as c:
        other = c.execute(
            text(
                "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM streets s,"
                " LATERAL ST_PointOnSurface(s.geom) p WHERE s.code <> :s ORDER BY s.code LIMIT 1"
            ),
            {"s": row.street},
        ).one()
    return {
        "lon": row.lon,
        "lat": row.lat,
        "street": row.street,
        "key_b": made.json()["key"],
        "other": {"lon": other.lon, "lat": other.lat},
    }


def _board(browser, live_url: str, key: str, blocked: list[str], dialogs: list[str]):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else (blocked.append(r.request.url), r.abort())
        ),
    )
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_url}/login?next=/board")
    page.fill("input[name=key]", key)
    page.click("input[type=submit]")
    page.wait_for_url("**/board")
    page.wait_for_function("() => document.getElementById('wg-live').textContent.includes('live')")
    return context, page


def _stream_until(live_url: str, headers: dict, cursor: str, case_id: int) -> list[dict]:
    """Read the board stream from `cursor` to the end of the batch holding the case's events."""
    seen: list[dict] = []
    h = {**headers, "Accept": "text/event-stream", "Last-Event-ID": cursor}
    with httpx.stream("GET", f"{live_url}/board/stream", headers=h, timeout=10) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: {"):
                seen.append(json.loads(line[6:]))
            elif line.startswith("id: ") and any(e.get("incident_id") == case_id for e in seen):
                break
    return seen


@pytest.fixture(scope="module")
def boards(browser, live_url: str, test_db, place: dict):
    """The district's dispatcher (a) and the street's (b), signed in, their boards live."""
    blocked: list[str] = []
    dialogs: list[str] = []
    ctx_a, a = _board(browser, live_url, test_db.keys["dispatcher"], blocked, dialogs)
    ctx_b, b = _board(browser, live_url, place["key_b"], blocked, dialogs)
    try:
        yield a, b, blocked, dialogs
    finally:
        ctx_a.close()
        ctx_b.close()


def _worker_moves_to(live_url: str, test_db, place: dict) -> int:
    """The demo grid worker goes on duty and reports a position at the spot."""
    worker = test_db.headers("grid_worker")
    duty = httpx.post(f"{live_url}/workers/me/duty", json={"on_duty": True}, headers=worker)
    fix = {"lon": place["lon"], "lat": place["lat"], "age_s": 0}
    moved = httpx.post(
        f"{live_url}/workers/me/positions", json={"positions": [fix]}, headers=worker
    )
    assert moved.status_code == 200, moved.text
    return int(duty.json()["worker_id"])


def _pick_on_the_map(page, case_id: int) -> None:
    """A click on the case's dot (drawn on a canvas, no marker of its own) selects it."""
    point = page.evaluate(
        f"() => {{ const c = wanggeBoard.cases[{case_id}], m = wanggeBoard.api.map;"
        f" m.setView([c.lat, c.lon], 17, {{ animate: false }});"
        " const r = m.getContainer().getBoundingClientRect();"
        " const p = m.latLngToContainerPoint([c.lat, c.lon]);"
        " return [r.left + p.x, r.top + p.y]; }"
    )
    # The dots redraw on the next animation frame: wait two, so the click meets the new draw.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.mouse.click(point[0], point[1])
    page.wait_for_function(
        f"() => document.getElementById('wg-panel-title').textContent.endsWith('#{case_id}')",
        timeout=5000,
    )


def _resident_files(live_url: str, place: dict, description: str = HOSTILE, **more) -> int:
    filed = httpx.post(
        f"{live_url}/incidents",
        json={
            "location": {"lon": place["lon"], "lat": place["lat"]},
            "category": "0101",
            "channel": "wechat",
            "description": description,
            **more,
        },
    )
    assert filed.status_code == 201, filed.text
    return int(filed.json()["id"])


def _race(pages, worker_id: int) -> list[str]:
    """Both dispatchers click the same worker for the selected case at once; their messages."""
    button = f'#wg-nearest button[data-worker="{worker_id}"]'
    for p in pages:
        p.locator(button).wait_for(timeout=10_000)
    for p in pages:
        p.click(button)
    messages = []
    for p in pages:
        p.wait_for_function(
            "() => /已派遣|慢了一步/.test(document.getElementById('wg-panel-msg').textContent)",
            timeout=10_000,
        )
        messages.append(p.inner_text("#wg-panel-msg"))
    return messages


def _case_row(engine: Engine, case_id: int) -> tuple:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT i.status, i.assignee_worker_id, (SELECT count(*) FROM incident_events e"
                    " WHERE e.incident_id = i.id AND e.action = 'dispatch') FROM incidents i"
                    " WHERE i.id = :i"
                ),
                {"i": case_id},
            ).one()
        )


def test_two_dispatchers_see_a_new_case_live_and_one_wins_it(
    boards, live_url: str, test_db, engine: Engine, place: dict, artifacts: Path
) -> None:
    a, b, blocked, dialogs = boards
    assert b.input_value("#wg-f-street") == place["street"]  # my street, by default
    assert a.input_value("#wg-f-street") == ""
    loaded = a.evaluate("() => [wanggeBoard.loaded, wanggeBoard.total]")
    assert loaded[0] == loaded[1] > 0  # every open case, none dropped
    queue = httpx.get(f"{live_url}/board/cases?limit=300", headers=test_db.headers("dispatcher"))
    listed = a.evaluate(
        "() => [...document.querySelectorAll('#wg-queue li[data-id]')].map(li => +li.dataset.id)"
    )
    assert listed == [f["properties"]["id"] for f in queue.json()["features"]]  # the queue's order
    first = httpx.get(f"{live_url}/board/cases?limit=1", headers=test_db.headers("dispatcher"))
    old_cursor = first.json()["cursor"]
    worker_id = _worker_moves_to(live_url, test_db, place)
    a.wait_for_function(
        f"() => wanggeBoard.workers[{worker_id}] &&"
        f" Math.abs(wanggeBoard.workers[{worker_id}].lon - {place['lon']}) < 1e-6",
        timeout=10_000,
    )
    case_id = _resident_files(live_url, place)
    items = [p.locator(f'#wg-queue li[data-id="{case_id}"]') for p in (a, b)]
    for item in items:
        item.wait_for(timeout=5000)  # pushed: no reload
        assert "onerror" in item.locator(".wg-text").inner_text()
    _pick_on_the_map(a, case_id)
    for item in items:
        item.click()
    messages = _race((a, b), worker_id)
    won = [m for m in messages if m.startswith("已派遣给")]
    lost = [m for m in messages if m.startswith("慢了一步")]
    assert len(won) == 1 and len(lost) == 1, messages
    assert "was faster" in lost[0]
    assert _case_row(engine, case_id) == ("dispatched", worker_id, 1)
    for p in (a, b):  # both boards show it dispatched (the loser's refreshed, too)
        p.locator(f'#wg-queue li[data-id="{case_id}"][data-status="dispatched"]').wait_for(
            timeout=5000
        )
    assert a.evaluate("() => [window.__xss, window.__xss2]") == [None, None]
    assert a.evaluate("() => wanggeBoard.outlines") > 0  # the streets under the cases
    a.evaluate("() => { document.getElementById('wg-side').scrollTop = 0; }")
    a.screenshot(path=str(artifacts / "board.png"))
    assert blocked == [] and dialogs == []
    elsewhere = _resident_files(live_url, place["other"], "别的街道 another street")
    missed = _stream_until(live_url, test_db.headers("dispatcher"), old_cursor, elsewhere)
    assert {case_id, elsewhere} <= {e.get("incident_id") for e in missed}
    assert any(e.get("worker_id") == worker_id for e in missed)  # the position, too
    street_b = {"Authorization": f"Bearer {place['key_b']}"}
    mine = _stream_until(live_url, street_b, old_cursor, case_id)
    assert elsewhere not in {e.get("incident_id") for e in mine}  # its street's cases only


def test_the_cases_come_in_pages_until_the_last_none_dropped(live_url: str, test_db) -> None:
    headers = test_db.headers("dispatcher")
    seen: list[int] = []
    offset: int | None = 0
    total = None
    while offset is not None:
        r = httpx.get(f"{live_url}/board/cases?limit=40&offset={offset}", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        total = body["total"] if total is None else total
        assert (body["cursor"] is not None) == (offset == 0)  # the first page says where to follow
        seen.extend(f["id"] for f in body["features"])
        offset = body["next_offset"]
    assert total is not None and total > 40 and len(seen) == len(set(seen)) == total
    stream = httpx.get(f"{live_url}/board/stream", headers=headers)
    assert stream.status_code == 406  # a stream only for who asks for one


def _file_near(live_url: str, place: dict, d_lon: float, d_lat: float, **more) -> int:
    spot = {"lon": place["lon"] + d_lon, "lat": place["lat"] + d_lat}
    return _resident_files(live_url, spot, more.pop("description", "框选 lasso"), **more)


def _status(engine: Engine, case_id: int) -> tuple:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT i.status, i.assignee_worker_id, (SELECT e.reason FROM incident_events e"
                    " WHERE e.incident_id = i.id ORDER BY e.id DESC LIMIT 1) FROM incidents i"
                    " WHERE i.id = :i"
                ),
                {"i": case_id},
            ).one()
        )


def test_a_box_drawn_round_two_cases_assigns_both_to_one_worker(
    boards, live_url: str, test_db, engine: Engine, place: dict
) -> None:
    a = boards[0]
    worker_id = _worker_moves_to(live_url, test_db, place)
    ids = [_file_near(live_url, place, 0.0009, 0.0004), _file_near(live_url, place, 0.0010, 0.0005)]
    for i in ids:
        a.locator(f'#wg-queue li[data-id="{i}"]').wait_for(timeout=5000)
    corners = a.evaluate(
        """ids => {
            const m = wanggeBoard.api.map, cs = ids.map(i => wanggeBoard.cases[i]);
            m.setView([(cs[0].lat + cs[1].lat) / 2, (cs[0].lon + cs[1].lon) / 2], 18, {animate: false});
            const r = m.getContainer().getBoundingClientRect();
            const ps = cs.map(c => m.latLngToContainerPoint([c.lat, c.lon]));
            return [Math.min(...ps.map(p => p.x)) + r.left - 15, Math.min(...ps.map(p => p.y)) + r.top - 15,
                    Math.max(...ps.map(p => p.x)) + r.left + 15, Math.max(...ps.map(p => p.y)) + r.top + 15];
        }""",
        ids,
    )
    a.click("#wg-lasso")
    a.mouse.move(corners[0], corners[1])
    a.mouse.down()
    a.mouse.move(corners[2], corners[3], steps=6)
    a.mouse.up()
    assert sorted(a.evaluate("() => wanggeBoard.group")) == sorted(ids)
    a.click(f'#wg-group-workers button[data-worker="{worker_id}"]')
    a.wait_for_function("() => wanggeBoard.bulk !== undefined", timeout=10_000)
    assert a.evaluate("() => wanggeBoard.bulk") == {"ok": 2, "failed": 0}
    assert a.locator("#wg-group-result li.wg-ok").count() == 2
    for i in ids:
        assert _status(engine, i)[:2] == ("dispatched", worker_id)


def test_void_with_a_reason_from_the_panel_and_an_urgent_case_alarms(
    boards, live_url: str, test_db, engine: Engine, place: dict, artifacts: Path, repo_root: Path
) -> None:
    a = boards[0]
    case_id = _file_near(live_url, place, -0.0008, 0.0003, description="误报 a false report")
    a.locator(f'#wg-queue li[data-id="{case_id}"]').click()
    a.locator('#wg-actions button[data-action="void"]').click()
    assert "reason" in a.inner_text("#wg-panel-msg")  # no reason: nothing sent
    assert _status(engine, case_id)[0] == "reported"
    a.fill("#wg-reason", "重复上报 a duplicate")
    a.locator('#wg-actions button[data-action="void"]').click()
    a.wait_for_function(
        "() => document.getElementById('wg-panel-msg').textContent.includes('done')", timeout=5000
    )
    status, _, reason = _status(engine, case_id)
    assert (status, reason) == ("void", "重复上报 a duplicate")
    a.locator(f'#wg-queue li[data-id="{case_id}"]').wait_for(state="detached", timeout=5000)
    urgent = _file_near(live_url, place, 0.0003, -0.0006, description="路面塌陷", urgency="urgent")
    a.wait_for_function("() => wanggeBoard.flashes > 0", timeout=5000)
    assert str(urgent) in a.inner_text("#wg-alarm")
    assert a.evaluate("() => wanggeBoard.beeps") == 1  # not muted
    sup = httpx.post(
        f"{live_url}/incidents/{urgent}/transitions",
        json={"action": "supervise", "reason": "区领导督办", "version": 1},
        headers=test_db.headers("admin"),
    )
    assert sup.status_code == 200, sup.text
    a.locator(f'#wg-queue li.wg-supervised[data-id="{urgent}"]').wait_for(timeout=5000)
    a.click("#wg-mute")
    assert a.evaluate("() => localStorage.getItem('wg-muted')") == "1"
    a.evaluate("() => { document.getElementById('wg-side').scrollTop = 0; wanggeBoard.api.fit(); }")
    a.wait_for_timeout(300)
    a.screenshot(path=str(artifacts / "board.png"))
    shutil.copy(artifacts / "board.png", repo_root / "docs" / "screenshots" / "board.png")


def test_a_case_loaded_without_its_description_fetches_it_when_opened(
    boards, engine: Engine
) -> None:
    """The first load sends descriptions for each part's first 300 rows only (the list's
    length); a case further down shows "…" until the panel or the list asks for it by id."""
    a = boards[0]
    case_id = a.evaluate(
        "() => { const ids = Object.keys(wanggeBoard.cases).map(Number).sort((x, y) => y - x);"
        " const p = wanggeBoard.cases[ids[0]].p; p.description = null; p.described = false;"
        " return ids[0]; }"
    )
    with engine.connect() as c:
        stored = c.execute(
            text("SELECT description FROM incidents WHERE id = :i"), {"i": case_id}
        ).scalar_one()
    assert stored
    _pick_on_the_map(a, case_id)
    a.wait_for_function(
        "(want) => document.getElementById('wg-panel-desc').textContent === want",
        arg=stored,
        timeout=5000,
    )
    assert a.evaluate(f"() => wanggeBoard.cases[{case_id}].p.described") is None
