"""One shared board reader per server process: two scopes, one read, each board its own cases.

A live server (uvicorn in a thread, so the test can count the feed's reads) with two
boards on `GET /board/stream`: the district's dispatcher and a street sub-centre's.
Residents file a case in that street and one in another street: the district board
gets both, the street board only its own, and every read of the changes in that time
was the shared one (no board read for itself).  Then the street board drops, cases are
filed meanwhile, and it resumes with its ``Last-Event-ID``: it gets the one it missed
(read for it alone, in its scope) and then follows the feed again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

import geo_api.background.board_feed as feed_module
from grids.cases.board import EVERYONE
from tests.live_server import serve_in_thread


@pytest.fixture(scope="module")
def live_url(app: FastAPI) -> Iterator[str]:
    """The module's app served by uvicorn in a thread (its feed is ours to inspect)."""
    with serve_in_thread(app, log_level="warning") as url:
        yield url


@pytest.fixture(scope="module")
def spots(live_url: str, test_db, engine: Engine) -> dict:
    """A point in one street, a point in another, and a dispatcher posted at the first street."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT s.code, ST_X(p) AS lon, ST_Y(p) AS lat FROM streets s,"
                " LATERAL ST_PointOnSurface(s.geom) p ORDER BY s.code LIMIT 2"
            )
        ).all()
    admin = test_db.headers("admin")
    made = httpx.post(
        f"{live_url}/admin/keys", json={"role": "dispatcher", "name": "街道调度员"}, headers=admin
    )
    assert made.status_code == 201, made.text
    posted = httpx.post(
        f"{live_url}/platform/units/S{rows[0].code}/staff",
        json={"key_id": made.json()["id"]},
        headers=admin,
    )
    assert posted.status_code == 201, posted.text
    return {
        "mine": {"lon": rows[0].lon, "lat": rows[0].lat},
        "other": {"lon": rows[1].lon, "lat": rows[1].lat},
        "street_key": made.json()["key"],
    }


class Listener(threading.Thread):
    """One board's stream in a thread: the case ids it got and its last cursor."""

    def __init__(self, url: str, key: str, cursor: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.cursor = url, key, cursor
        self.cases: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "text/event-stream"}
        if self.cursor:
            headers["Last-Event-ID"] = self.cursor
        with httpx.stream("GET", f"{self.url}/board/stream", headers=headers, timeout=20) as r:
            for line in r.iter_lines():
                if line.startswith("data: {"):
                    event = json.loads(line[6:])
                    if event.get("action") == "report":
                        self.cases.append(int(event["incident_id"]))
                elif line.startswith("id: "):
                    self.cursor = line[4:].strip()
                if self.stop.is_set():
                    return


def _file(live_url: str, spot: dict, note: str) -> int:
    filed = httpx.post(
        f"{live_url}/incidents",
        json={"location": spot, "category": "0101", "channel": "wechat", "description": note},
    )
    assert filed.status_code == 201, filed.text
    return int(filed.json()["id"])


def _until(check, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_scopes_one_shared_read_and_a_resume_misses_nothing(
    app: FastAPI, live_url: str, test_db, spots: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers: list[str] = []
    real = feed_module.board_changes

    def counted(**kw):
        readers.append("shared" if kw["actor"] == EVERYONE else kw["actor"].name)
        return real(**kw)

    monkeypatch.setattr(feed_module, "board_changes", counted)
    feed = app.state.board_feed
    district = Listener(live_url, test_db.keys["dispatcher"])
    street = Listener(live_url, spots["street_key"])
    district.start()
    _until(lambda: feed.boards() == 1)
    street.start()
    _until(lambda: feed.boards() == 2)
    mine = _file(live_url, spots["mine"], "本街道 my street")
    other = _file(live_url, spots["other"], "别的街道 another street")
    _until(lambda: {mine, other} <= set(district.cases) and mine in street.cases)
    time.sleep(0.5)  # anything wrongly sent would have come by now
    assert district.cases == [mine, other]
    assert street.cases == [mine]  # the other street's case never reached the street board
    assert readers and set(readers) == {"shared"}  # one read for both boards, none their own
    street.stop.set()
    nudge = _file(
        live_url, spots["mine"], "wake the street board to end"
    )  # its stream notices the stop
    street.join(10)
    _until(lambda: feed.boards() == 1)
    missed = _file(live_url, spots["mine"], "断线时 while away")
    _file(live_url, spots["other"], "断线时 elsewhere")
    _until(lambda: missed in district.cases)
    readers.clear()
    back = Listener(live_url, spots["street_key"], cursor=street.cursor)
    back.start()
    _until(lambda: missed in back.cases)
    assert readers.count("街道调度员") == 1  # the gap read once, for this board alone
    after = _file(live_url, spots["mine"], "回来后 after the resume")
    _until(lambda: after in back.cases and after in district.cases)
    time.sleep(0.5)
    assert back.cases[-1] == after
    assert set(back.cases) - {missed, after} <= {nudge}  # the nudge only if its cursor came not
    assert back.cases.count(missed) == 1 and back.cases.count(after) == 1
    back.stop.set()
    district.stop.set()
    _file(live_url, spots["other"], "end")
    district.join(10)
