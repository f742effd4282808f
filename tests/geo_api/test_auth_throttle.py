"""Failed authentications are throttled per client address and per key prefix, and audited.

Each test speaks from its own client address (`TestClient(client=…)`), so one
test's failures do not block another's.  Successful and anonymous requests are
never slowed or refused by the throttle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.geo_api.clock_helpers import manual_clock

LIMIT = 10  # WANGGE_AUTH_FAILURES_PER_ADDRESS / _PER_PREFIX default


@contextmanager
def from_address(app, address: str) -> Iterator[TestClient]:
    """A client speaking from `address` (no lifespan: the module's client already runs it)."""
    c = TestClient(app, client=(address, 40000))
    try:
        yield c
    finally:
        c.close()


def _audit(engine, address: str) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT action, count(*) FROM audit_log WHERE data->>'client' = :a"
                " AND action LIKE 'auth_%' GROUP BY action"
            ),
            {"a": address},
        ).all()
    return dict(rows)


def test_wrong_keys_on_login_are_throttled_and_audited(app, engine) -> None:
    with from_address(app, "10.0.1.1") as c:
        answers = [
            c.post("/login", data={"key": f"wg_wrong-{i}"}, follow_redirects=False)
            for i in range(200)
        ]
    statuses = [r.status_code for r in answers]
    assert statuses[:LIMIT] == [401] * LIMIT and set(statuses[LIMIT:]) == {429}
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "auth_throttled"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # every failure is audited, and the start of the block once (not each refusal)
    assert _audit(engine, "10.0.1.1") == {"auth_failed": LIMIT, "auth_throttled": 1}


def test_wrong_bearer_keys_are_throttled_and_a_blocked_address_gets_nothing(
    app, engine, test_db
) -> None:
    with from_address(app, "10.0.1.2") as c:
        statuses = [
            c.get(
                "/dispatch/queue", headers={"Authorization": f"Bearer wg_guess{i:05d}"}
            ).status_code
            for i in range(200)
        ]
        assert statuses[:LIMIT] == [401] * LIMIT and set(statuses[LIMIT:]) == {429}
        # while blocked, even the right key is refused before it is looked at
        good = c.get("/dispatch/queue", headers=test_db.headers("dispatcher"))
        assert good.status_code == 429 and good.headers["retry-after"]
        malformed = c.get("/", headers={"Authorization": "Basic eDp5"})
        assert malformed.status_code == 429
        # anonymous requests do no authentication work at all, so they are never refused
        assert c.get("/locate", params={"lon": 104.10, "lat": 30.67}).status_code == 200
        assert c.get("/health").status_code == 200
    with from_address(app, "10.0.1.3") as other:
        assert (
            other.get("/dispatch/queue", headers=test_db.headers("dispatcher")).status_code == 200
        )
    audited = _audit(engine, "10.0.1.2")
    assert audited["auth_failed"] == LIMIT and audited["auth_throttled"] == 1


def test_the_block_lifts_when_the_window_has_passed(app, test_db) -> None:
    with manual_clock(app, datetime(2026, 11, 5, 9, 0, tzinfo=UTC)) as clock:
        with from_address(app, "10.0.1.4") as c:
            for i in range(LIMIT):
                c.get("/", headers={"Authorization": f"Bearer wg_x{i}"})
            blocked = c.get("/", headers={"Authorization": "Bearer wg_y"})
            assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
            clock.advance(seconds=30)
            assert (
                c.get("/", headers={"Authorization": "Bearer wg_y"}).headers["retry-after"] == "30"
            )
            clock.advance(seconds=31)
            assert c.get("/", headers=test_db.headers("planner")).status_code == 200
            assert c.get("/", headers={"Authorization": "Bearer wg_z"}).status_code == 401


def test_good_keys_are_never_counted(app, test_db) -> None:
    with from_address(app, "10.0.1.5") as c:
        for _ in range(50):
            assert c.get("/", headers=test_db.headers("planner")).status_code == 200
        for i in range(LIMIT - 1):
            assert c.get("/", headers={"Authorization": f"Bearer wg_n{i}"}).status_code == 401
        assert c.get("/", headers=test_db.headers("planner")).status_code == 200


def test_wrong_keys_sharing_a_prefix_are_throttled_but_the_real_key_still_works(
    app, test_db
) -> None:
    real = test_db.keys["dispatcher"]
    statuses = []
    for n in range(LIMIT + 3):  # each from its own address: only the prefix is shared
        with from_address(app, f"10.0.2.{n + 1}") as c:
            wrong = real[:10] + "-not-the-rest"
            statuses.append(
                c.get("/dispatch/queue", headers={"Authorization": f"Bearer {wrong}"}).status_code
            )
    assert statuses[:LIMIT] == [401] * LIMIT and set(statuses[LIMIT:]) == {429}
    with from_address(app, "10.0.2.200") as c:
        # nobody can lock a colleague out by sending wrong keys that start like theirs
        assert c.get("/dispatch/queue", headers=test_db.headers("dispatcher")).status_code == 200


def test_wrong_open311_api_keys_are_throttled(app) -> None:
    form = {"service_code": "0101", "lat": "30.67", "long": "104.10", "description": "x"}
    with from_address(app, "10.0.1.6") as c:
        answers = [
            c.post("/open311/v2/requests.json", data={**form, "api_key": f"wg_o{i}"})
            for i in range(LIMIT + 2)
        ]
    assert [r.status_code for r in answers[:LIMIT]] == [403] * LIMIT
    assert answers[-1].status_code == 429 and answers[-1].headers["retry-after"]
    assert answers[-1].json()[0]["code"] == 429  # the Open311 error list


def test_the_throttle_counts_per_bucket_in_a_sliding_window() -> None:
    from geo_api.throttle import FailureThrottle

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    throttle = FailureThrottle(limit=3, window=timedelta(seconds=10), max_buckets=2)
    assert [throttle.fail("a", t0 + timedelta(seconds=s)) for s in (0, 4, 8)] == [
        False,
        False,
        True,
    ]
    assert throttle.retry_after("a", t0 + timedelta(seconds=8)) == 2
    assert throttle.retry_after("b", t0) is None
    assert throttle.retry_after("a", t0 + timedelta(seconds=10)) is None  # the first one left
    throttle.fail("b", t0)
    throttle.fail("c", t0)  # over max_buckets: the bucket failed least recently is forgotten
    assert throttle.retry_after("a", t0 + timedelta(seconds=9)) is None
