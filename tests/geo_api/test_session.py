"""Staff sign-in for browsers: a cookie that opens the map pages and authorises no writes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from geo_api.auth import SESSION_COOKIE
from tests.geo_api.clock_helpers import manual_clock


def test_sign_in_page_is_public(client) -> None:
    resp = client.get("/login", params={"next": "/maps/workload"})
    assert resp.status_code == 200 and 'name="key"' in resp.text
    assert 'value="/maps/workload"' in resp.text


def test_unknown_key_is_refused_without_a_cookie(client) -> None:
    resp = client.post("/login", data={"key": "wg_not-a-key"}, follow_redirects=False)
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_api_key"
    assert SESSION_COOKIE not in resp.cookies


def test_cookie_opens_staff_pages_but_never_writes(client, test_db, engine) -> None:
    client.cookies.clear()
    resp = client.post(
        "/login",
        data={"key": test_db.keys["dispatcher"], "next": "/maps/dispatch"},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/maps/dispatch"
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    try:
        assert client.get("/maps/dispatch").status_code == 200
        assert client.get("/dispatch/queue").status_code == 200
        # the same browser cannot write with the cookie alone (no CSRF through it)
        write = client.post("/dispatch/assign", json={"incident_ids": [1], "worker_id": 1})
        assert write.status_code == 401
    finally:
        client.cookies.clear()
    with engine.connect() as conn:
        logins = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'login' AND role = 'dispatcher'")
        ).scalar()
    assert logins >= 1


def test_next_never_leaves_the_service(client, test_db) -> None:
    resp = client.post(
        "/login",
        data={"key": test_db.keys["planner"], "next": "//evil.example/x"},
        follow_redirects=False,
    )
    client.cookies.clear()
    assert resp.headers["location"] == "/"


def test_a_browser_without_a_key_is_sent_to_sign_in(client) -> None:
    client.cookies.clear()
    page = client.get("/maps/coverage", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fmaps%2Fcoverage"
    api = client.get("/maps/coverage", follow_redirects=False)
    assert api.status_code == 401  # API clients still get the problem document


def test_logout_forgets_the_cookie(client, test_db) -> None:
    client.post("/login", data={"key": test_db.keys["admin"]}, follow_redirects=False)
    resp = client.post("/logout", follow_redirects=False)
    assert resp.status_code == 303
    assert SESSION_COOKIE in resp.headers["set-cookie"] and "max-age=0" in resp.headers[
        "set-cookie"
    ].lower().replace('"', "")
    client.cookies.clear()


# --- server-side sessions: the cookie is an opaque id, never the key ---------------------------


def _sign_in(client, key: str) -> str:
    """Sign the client in and return the cookie value the server set."""
    client.cookies.clear()
    resp = client.post(
        "/login", data={"key": key, "next": "/maps/workload"}, follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    value = resp.cookies.get(SESSION_COOKIE)
    assert value
    return value


def _with_cookie(client, value: str, path: str = "/dispatch/queue", name: str = SESSION_COOKIE):
    """A read sent with nothing but one cookie."""
    client.cookies.clear()
    client.cookies.set(name, value)
    try:
        return client.get(path, follow_redirects=False)
    finally:
        client.cookies.clear()


def _reads_with_cookie(client, value: str) -> int:
    """Status of a staff-only read sent with nothing but the session cookie."""
    return _with_cookie(client, value).status_code


def test_the_cookie_is_an_opaque_session_stored_hashed_with_role_and_expiry(
    client, test_db, engine
) -> None:
    key = test_db.keys["dispatcher"]
    value = _sign_in(client, key)
    client.cookies.clear()
    assert value != key and key not in value and key[3:20] not in value
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT s.role, s.expires_at - s.created_at AS life, s.last_used_at, k.name"
                " FROM web_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.token_hash = :h"
            ),
            {"h": hashlib.sha256(value.encode()).hexdigest()},
        ).one()
        leaked = c.execute(
            text("SELECT count(*) FROM web_sessions WHERE token_hash = :v OR client = :v"),
            {"v": value},
        ).scalar()
    assert row.role == "dispatcher" and row.name == "demo:dispatcher"
    assert row.life == timedelta(hours=12) and row.last_used_at is not None
    assert leaked == 0  # only the hash is stored


def test_the_cookie_is_never_a_bearer_key(client, test_db) -> None:
    value = _sign_in(client, test_db.keys["admin"])
    client.cookies.clear()
    resp = client.get("/dispatch/queue", headers={"Authorization": f"Bearer {value}"})
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_api_key"
    write = client.post(
        "/admin/keys",
        json={"role": "admin", "name": "stolen"},
        headers={"Authorization": f"Bearer {value}"},
    )
    assert write.status_code == 401


def test_a_key_is_never_a_cookie(client, test_db) -> None:
    key = test_db.keys["dispatcher"]
    assert _reads_with_cookie(client, key) == 401
    legacy = _with_cookie(client, key, name="wangge_key")
    assert legacy.status_code == 401  # the old raw-key cookie opens nothing any more


def test_logout_ends_the_session_on_the_server(client, test_db, engine) -> None:
    value = _sign_in(client, test_db.keys["dispatcher"])
    assert _reads_with_cookie(client, value) == 200
    client.cookies.set(SESSION_COOKIE, value)
    assert client.post("/logout", follow_redirects=False).status_code == 303
    client.cookies.clear()
    # a copy of the cookie kept elsewhere (another tab, a stolen copy) opens nothing now
    assert _reads_with_cookie(client, value) == 401
    with engine.connect() as c:
        ended = c.execute(
            text("SELECT revoked_at IS NOT NULL FROM web_sessions WHERE token_hash = :h"),
            {"h": hashlib.sha256(value.encode()).hexdigest()},
        ).scalar()
        logouts = c.execute(text("SELECT count(*) FROM audit_log WHERE action = 'logout'")).scalar()
    assert ended is True and logouts >= 1


def test_signing_in_again_rotates_the_session(client, test_db) -> None:
    first = _sign_in(client, test_db.keys["planner"])
    client.cookies.set(SESSION_COOKIE, first)
    resp = client.post("/login", data={"key": test_db.keys["planner"]}, follow_redirects=False)
    second = resp.cookies.get(SESSION_COOKIE)
    client.cookies.clear()
    assert second and second != first
    assert _reads_with_cookie(client, first) == 401
    assert _with_cookie(client, second, "/maps/workload").status_code == 200


def test_an_admin_lists_and_revokes_a_session(client, test_db) -> None:
    value = _sign_in(client, test_db.keys["dispatcher"])
    client.cookies.clear()
    admin = test_db.headers("admin")
    listed = client.get("/admin/sessions", headers=admin)
    assert listed.status_code == 200
    mine = [s for s in listed.json() if s["key_name"] == "demo:dispatcher"]
    assert mine and all(value not in str(s) for s in listed.json())
    newest = max(mine, key=lambda s: s["id"])
    resp = client.post(f"/admin/sessions/{newest['id']}/revoke", headers=admin)
    assert resp.status_code == 200 and resp.json()["revoked_at"]
    assert _reads_with_cookie(client, value) == 401
    # the key itself keeps working
    assert client.get("/dispatch/queue", headers=test_db.headers("dispatcher")).status_code == 200
    assert client.post("/admin/sessions/999999/revoke", headers=admin).status_code == 404


def test_a_session_ends_after_its_lifetime_and_when_idle(app, client, test_db) -> None:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with manual_clock(app, start) as clock:
        long_lived = _sign_in(client, test_db.keys["dispatcher"])
        idle = _sign_in(client, test_db.keys["dispatcher"])
        for _ in range(11):  # used every hour: not idle, but 12 h is the most a session lasts
            clock.advance(hours=1)
            assert _reads_with_cookie(client, long_lived) == 200
        assert _reads_with_cookie(client, idle) == 401  # unused for over two hours
        clock.advance(hours=1, seconds=1)
        assert _reads_with_cookie(client, long_lived) == 401


def test_revoking_the_key_ends_its_sessions(client, test_db) -> None:
    admin = test_db.headers("admin")
    made = client.post(
        "/admin/keys", json={"role": "planner", "name": "短期 planner"}, headers=admin
    )
    assert made.status_code == 201
    value = _sign_in(client, made.json()["key"])
    client.cookies.clear()
    assert _with_cookie(client, value, "/maps/workload").status_code == 200
    assert client.post(f"/admin/keys/{made.json()['id']}/revoke", headers=admin).status_code == 200
    assert _with_cookie(client, value, "/maps/workload").status_code == 401


def test_a_resident_key_does_not_sign_in(client) -> None:
    # resident keys exist (reporters who want their cases listed) but open no staff page
    from layers.tables.api_keys import create_key

    with client.app.state.sessionmaker() as session:
        key = create_key(session=session, role="resident", name="resident key")
        session.commit()
    client.cookies.clear()
    resp = client.post("/login", data={"key": key}, follow_redirects=False)
    assert resp.status_code == 403 and resp.json()["code"] == "staff_only"
    assert SESSION_COOKIE not in resp.cookies
