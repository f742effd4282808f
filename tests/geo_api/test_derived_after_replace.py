"""Derived layers follow what they were computed from, also across `demo load --replace`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_api.cli import app as cli_app
from tests.conftest import TEST_NOW, TEST_SCALE, TEST_SEED


def _cameras(client: TestClient, headers: dict[str, str]) -> int:
    resp = client.get("/analytics/coverage", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["summary"]["cameras"]["total"]


def test_coverage_survives_replacing_the_district_with_the_same_one(
    client: TestClient, test_db, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = test_db.headers("planner")
    before = _cameras(client, headers)
    assert before > 0
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    monkeypatch.setenv("WANGGE_HOME", str(tmp_path))
    args = ["demo", "load", "--replace", "--seed", str(TEST_SEED), "--scale", str(TEST_SCALE)]
    result = CliRunner().invoke(cli_app, [*args, "--now", TEST_NOW.isoformat()])
    assert result.exit_code == 0, result.output
    # the same seed gives the same cameras (ids, optics, positions) as before the replace
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM cameras")).scalar_one() == before
    planner = json.loads((tmp_path / "demo-keys.json").read_text())["planner"]
    headers = {"Authorization": f"Bearer {planner}"}
    assert _cameras(client, headers) == before
    with engine.connect() as c:
        views = c.execute(text("SELECT count(*) FROM camera_views")).scalar_one()
    assert views == before
    page = client.get("/maps/coverage", headers=headers)
    assert page.status_code == 200
    assert "online views" in page.text


def test_coverage_of_a_district_without_cameras(client: TestClient, engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("DELETE FROM cameras"))
        admin = c.execute(
            text("SELECT count(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
        ).scalar_one()
    assert admin >= 1
    from layers.store.db import make_sessionmaker
    from layers.tables.api_keys import create_key

    with make_sessionmaker(engine)() as session:
        key = create_key(session=session, role="planner", name="test: no cameras")
        session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    assert _cameras(client, headers) == 0
    page = client.get("/maps/coverage", headers=headers)
    assert page.status_code == 200
