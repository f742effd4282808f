"""The safety platform tests' shared pieces: two places of one street, the keys, the calls."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.tables.api_keys import create_key
from layers.tables.grid_cells import live

REPORTER = {"reporter_name": "王小明", "reporter_phone": "13800138000"}


@pytest.fixture(scope="module")
def place(engine) -> dict:
    """Two points in two communities of one street, and that street's units."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(ST_PointOnSurface(g.geom)) AS x, ST_Y(ST_PointOnSurface(g.geom)) AS y, "
                "c.id AS community_id, s.id AS street_id, s.code AS street, cu.code AS station, "
                "su.code AS centre FROM grid_cells g JOIN communities c ON c.id = g.community_id "
                "JOIN streets s ON s.id = c.street_id "
                "JOIN platform_units cu ON cu.community_id = c.id "
                "JOIN platform_units su ON su.street_id = s.id "
                f"WHERE g.level = 1 AND {live('g')} AND s.id = (SELECT min(street_id) FROM "
                "communities GROUP BY street_id HAVING count(*) > 1 ORDER BY 1 LIMIT 1) "
                "ORDER BY c.id, g.code"
            )
        ).all()
        district = conn.execute(
            text("SELECT code FROM platform_units WHERE level = 'district'")
        ).scalar()
    first = rows[0]
    other = next(r for r in rows if r.community_id != first.community_id)
    return {"a": first, "b": other, "district": district}


@pytest.fixture(scope="module")
def keys(client, test_db, engine, place) -> dict[str, dict[str, str]]:
    """A street sub-centre's dispatcher and a 公安分局 key, linked through the admin routes."""
    with Session(engine) as session:
        street = create_key(session=session, role="dispatcher", name="street dispatcher")
        police = create_key(session=session, role="department", name="公安分局 staff")
        ids = dict(session.execute(text("SELECT name, id FROM api_keys")).all())
        session.commit()
    admin = test_db.headers("admin")
    r = client.post(
        f"/platform/units/{place['a'].centre}/staff",
        json={"key_id": ids["street dispatcher"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.post("/departments/gaj/staff", json={"key_id": ids["公安分局 staff"]}, headers=admin)
    assert r.status_code == 201, r.text
    again = client.post(
        "/departments/cgj/staff", json={"key_id": ids["公安分局 staff"]}, headers=admin
    )
    assert again.status_code == 409 and again.json()["code"] == "already_staff"
    bearer = lambda k: {"Authorization": f"Bearer {k}"}  # noqa: E731
    return {
        "street": bearer(street),
        "police": bearer(police),
        "city": test_db.headers("department"),  # the demo department key: 城管局
        "district": test_db.headers("dispatcher"),
    }


def report(client, where, category="0102") -> dict:
    body = {
        "location": {"lon": where.x, "lat": where.y},
        "category": category,
        "channel": "hotline_96966",
        "description": "楼下暴露垃圾",
        **REPORTER,
    }
    r = client.post("/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def act(client, headers, case, action, reason=None, data=None) -> dict:
    body = {"action": action, "reason": reason, "data": data or {}, "version": case["version"]}
    r = client.post(f"/incidents/{case['id']}/transitions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def step(client, headers, part, action, reason=None) -> dict:
    body = {"action": action, "reason": reason, "version": part["version"]}
    r = client.post(f"/transfers/{part['id']}/steps", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def unit_of(engine, case_id) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT u.code, u.level FROM incidents i JOIN platform_units u ON u.id = i.unit_id "
                "WHERE i.id = :i"
            ),
            {"i": case_id},
        ).one()
    return row.code, row.level


def notices(client, headers, unit) -> list[dict]:
    r = client.get(f"/platform/units/{unit}/notices", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()
