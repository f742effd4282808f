"""Map pages show a role only the cases the role table gives it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import DemoDatabase as DemoDb
from tests.geo_api.case_scope_helpers import (
    Keys,
    expected,
    ids,
    make_keys,
)


@pytest.fixture(scope="module")
def keys(test_db: DemoDb, engine: Engine) -> Keys:
    """Headers and worker id per role (a level-3 worker's key made in this module's copy)."""
    return make_keys(test_db, engine)


_POINTS = re.compile(r"(?:事件|\\u4e8b\\u4ef6) cases \(([\d,]+)\)")
"""The cluster layer's name in the layer control (Folium writes it as a JS string)."""


@pytest.mark.parametrize("role", ["grid_worker", "planner"])
def test_hotspot_map_points_are_the_roles_cases(
    client: TestClient, engine: Engine, keys, role
) -> None:
    headers, worker = keys[role]
    html = client.get("/maps/hotspots?interval=none", headers=headers)
    assert html.status_code == 200
    shown = int(_POINTS.search(html.text).group(1).replace(",", ""))
    non_void = ids(engine, "SELECT id FROM incidents WHERE status <> 'void'")
    assert shown == len(expected(engine, role, worker) & non_void)


def test_dispatch_map_is_for_dispatchers_only(client: TestClient, keys) -> None:
    for role, status in (("grid_worker", 403), ("planner", 403), ("resident", 401)):
        assert client.get("/maps/dispatch", headers=keys[role][0]).status_code == status
    assert client.get("/maps/dispatch", headers=keys["dispatcher"][0]).status_code == 200
