"""Staff sign-in for browsers: a cookie that opens the map pages and authorises no writes."""

from __future__ import annotations

from sqlalchemy import text

from geo_api.auth import SESSION_COOKIE


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
