"""Managed API keys: create (shown once), list, revoke, expiry, last use, a grid worker's binding.

Over HTTP for admins (`/admin/keys`) and through the CLI (`wangge keys`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text
from typer.testing import CliRunner

from layers.core.errors import UnprocessableError
from layers.tables.incidents import OPEN_STATUSES
from tests.geo_api.clock_helpers import manual_clock


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_an_admin_creates_lists_and_revokes_a_key(client, test_db, engine) -> None:
    admin = test_db.headers("admin")
    made = client.post(
        "/admin/keys", json={"role": "dispatcher", "name": "王五 (dispatch centre)"}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    key = body["key"]
    assert key.startswith("wg_") and body["prefix"] == key[:10] and body["active"] is True
    assert body["role"] == "dispatcher" and body["created_at"] and body["last_used_at"] is None
    assert client.get("/dispatch/queue", headers=_bearer(key)).status_code == 200

    listed = client.get("/admin/keys", headers=admin)
    assert listed.status_code == 200
    mine = next(k for k in listed.json() if k["id"] == body["id"])
    assert mine["name"] == "王五 (dispatch centre)" and mine["last_used_at"] is not None
    assert "key" not in mine and all(key not in str(k) for k in listed.json())
    assert {k["name"] for k in listed.json()} >= {"demo:admin", "demo:dispatcher"}

    revoked = client.post(f"/admin/keys/{body['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.get("/dispatch/queue", headers=_bearer(key)).status_code == 401
    live = {k["id"] for k in client.get("/admin/keys", headers=admin).json()}
    every = client.get("/admin/keys", params={"include_revoked": True}, headers=admin).json()
    assert body["id"] not in live and body["id"] in {k["id"] for k in every}
    assert client.post("/admin/keys/999999/revoke", headers=admin).status_code == 404
    with engine.connect() as c:
        audited = c.execute(
            text(
                "SELECT action FROM audit_log WHERE entity = 'api_keys' AND entity_id = :i"
                " AND action IN ('key_create', 'key_revoke') ORDER BY id"
            ),
            {"i": str(body["id"])},
        ).scalars()
        assert list(audited) == ["key_create", "key_revoke"]
        stored = c.execute(
            text("SELECT count(*) FROM api_keys WHERE key_hash = :k OR key_prefix = :k"),
            {"k": key},
        ).scalar()
    assert stored == 0  # the key itself is stored nowhere


def test_keys_are_managed_with_the_admins_header_not_a_cookie(client, test_db) -> None:
    client.cookies.clear()
    signed = client.post("/login", data={"key": test_db.keys["admin"]}, follow_redirects=False)
    assert signed.status_code == 303
    try:
        assert client.get("/admin/keys").status_code == 200  # reading with the cookie
        made = client.post("/admin/keys", json={"role": "admin", "name": "csrf"})
        assert made.status_code == 401  # a write through the cookie alone is refused
    finally:
        client.cookies.clear()


def test_a_grid_worker_key_is_bound_to_its_worker(client, test_db, engine) -> None:
    admin = test_db.headers("admin")
    refused = client.post("/admin/keys", json={"role": "grid_worker", "name": "x"}, headers=admin)
    assert refused.status_code == 422 and refused.json()["code"] == "worker_required"
    wrong = client.post(
        "/admin/keys", json={"role": "planner", "name": "x", "worker_id": 1}, headers=admin
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "worker_not_allowed"
    unknown = client.post(
        "/admin/keys",
        json={"role": "grid_worker", "name": "x", "worker_id": 2**31 - 1},
        headers=admin,
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_worker"
    with engine.connect() as c:
        worker, code = c.execute(
            text(
                "SELECT w.id, w.cell_code FROM workers w JOIN grid_cells g ON g.code = w.cell_code"
                " AND g.level = 1 JOIN incidents i ON i.l1_cell_id = g.id"
                " WHERE w.level = 1 AND w.id <> 1 AND i.status = ANY(:open)"
                " GROUP BY w.id, w.cell_code ORDER BY count(*) DESC, w.id LIMIT 1"
            ),
            {"open": list(OPEN_STATUSES)},
        ).one()
    made = client.post(
        "/admin/keys",
        json={"role": "grid_worker", "name": "网格员", "worker_id": worker},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["worker_id"] == worker
    queue = client.get(
        "/dispatch/queue", params={"limit": 500}, headers=_bearer(made.json()["key"])
    )
    assert queue.status_code == 200
    items = queue.json()["items"]
    assert items and all(i["l1_code"] == code or i["assignee_worker_id"] == worker for i in items)
    demo = client.get(
        "/dispatch/queue", params={"limit": 500}, headers=test_db.headers("grid_worker")
    )
    assert {i["id"] for i in items}.isdisjoint({i["id"] for i in demo.json()["items"]})


def test_a_key_stops_at_its_expiry(app, client, test_db) -> None:
    start = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    with manual_clock(app, start) as clock:
        admin = test_db.headers("admin")
        past = client.post(
            "/admin/keys",
            json={"role": "planner", "name": "p", "expires_at": "2026-11-03T07:00:00+00:00"},
            headers=admin,
        )
        assert past.status_code == 422 and past.json()["code"] == "bad_expiry"
        made = client.post(
            "/admin/keys",
            json={"role": "planner", "name": "一小时", "expires_at": "2026-11-03T17:00:00+08:00"},
            headers=admin,
        )
        assert made.status_code == 201
        key = made.json()["key"]
        assert client.get("/planning/revisions", headers=_bearer(key)).status_code == 200
        clock.advance(minutes=59)
        assert client.get("/planning/revisions", headers=_bearer(key)).status_code == 200
        clock.advance(minutes=2)
        resp = client.get("/planning/revisions", headers=_bearer(key))
        assert resp.status_code == 401 and resp.json()["code"] == "invalid_api_key"
        listed = client.get("/admin/keys", headers=admin).json()
        assert next(k for k in listed if k["id"] == made.json()["id"])["active"] is False


def test_last_use_is_written_at_most_once_a_minute(app, client, test_db, engine) -> None:
    admin = test_db.headers("admin")
    made = client.post("/admin/keys", json={"role": "planner", "name": "hot"}, headers=admin)
    key, key_id = made.json()["key"], made.json()["id"]
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writes.append(statement)

    start = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        with manual_clock(app, start) as clock:
            for _ in range(30):  # 30 requests within 58 s: one write
                assert client.get("/", headers=_bearer(key)).status_code == 200
                clock.advance(seconds=2)
            assert len(writes) == 1
            clock.advance(seconds=3)  # a minute after the first use
            assert client.get("/", headers=_bearer(key)).status_code == 200
            assert len(writes) == 2
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    with engine.connect() as c:
        used = c.execute(text("SELECT last_used_at FROM api_keys WHERE id = :i"), {"i": key_id})
        assert used.scalar() == start + timedelta(seconds=63)


def _cli(test_db, *args: str):
    from geo_api.cli import app as cli

    result = CliRunner().invoke(cli, list(args), env={"WANGGE_DATABASE_URL": test_db.url})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_the_cli_creates_lists_and_revokes_keys(client, test_db, engine) -> None:
    created = _cli(test_db, "keys", "create", "--role", "dispatcher", "--name", "李四 CLI")
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("wg_")
    assert client.get("/dispatch/queue", headers=_bearer(key)).status_code == 200
    listed = _cli(test_db, "keys", "list").stdout
    line = next(row for row in listed.splitlines() if "李四 CLI" in row)
    assert key[:10] in line and "dispatcher" in line and "active" in line and key not in listed
    key_id = line.split()[0]
    revoked = _cli(test_db, "keys", "revoke", key_id).stdout
    assert "revoked" in revoked
    assert client.get("/dispatch/queue", headers=_bearer(key)).status_code == 401
    assert "李四 CLI" not in _cli(test_db, "keys", "list").stdout
    assert "李四 CLI" in _cli(test_db, "keys", "list", "--all").stdout
    with engine.connect() as c:
        actors = c.execute(
            text("SELECT DISTINCT actor FROM audit_log WHERE entity_id = :i"), {"i": key_id}
        ).scalars()
        assert set(actors) == {"wangge keys"}


def test_the_cli_binds_a_grid_worker_key_and_refuses_bad_input(test_db) -> None:
    from geo_api.cli import app as cli

    env = {"WANGGE_DATABASE_URL": test_db.url}
    missing = CliRunner().invoke(
        cli, ["keys", "create", "--role", "grid_worker", "--name", "x"], env=env
    )
    # `wangge` (geo_api.cli.main) turns this into `error: …` and exit 2
    assert isinstance(missing.exception, UnprocessableError)
    assert missing.exception.code == "worker_required"
    made = _cli(test_db, "keys", "create", "--role", "grid_worker", "--name", "w", "--worker", "2")
    assert made.stdout.strip().splitlines()[-1].startswith("wg_")
    naive = CliRunner().invoke(
        cli,
        ["keys", "create", "--role", "planner", "--name", "x", "--expires", "2030-01-01"],
        env=env,
    )
    assert naive.exit_code == 2
