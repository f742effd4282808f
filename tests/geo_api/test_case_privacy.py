"""Reporter data on GET /incidents/{id}: in clear for whom the role table says, masked otherwise.

Dispatchers and admins read every case's reporter; the assigned grid worker reads
it where the category needs a call-back; planners and other grid workers get a
mask (`张*`, `138****5678`); residents get nothing.  Every read in clear is
audited with who, which case and when (the app's clock).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from layers.tables.personal_data import mask_name, mask_phone
from tests.conftest import TEST_NOW
from tests.conftest import DemoDatabase as DemoDb

WORKER = 1
"""The demo's grid-worker key is bound to worker 1 (a level-1 worker)."""


def _case(engine: Engine, where: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT i.id, i.reporter_name, i.reporter_phone FROM incidents i "
                "JOIN categories c ON c.code = i.category_code "
                f"WHERE i.reporter_phone IS NOT NULL AND i.reporter_name IS NOT NULL AND {where} "
                "ORDER BY i.id LIMIT 1"
            ),
            {"w": WORKER},
        ).one()
    return dict(row._mapping)


def _audits(engine: Engine, case_id: int) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, role, action, entity, entity_id, at, data FROM audit_log "
                "WHERE action = 'personal_data.read' AND entity_id = :id ORDER BY id"
            ),
            {"id": str(case_id)},
        ).all()
    return [dict(r._mapping) for r in rows]


@pytest.fixture(scope="module")
def callback_case(engine: Engine) -> dict:
    """A case assigned to the demo grid worker in a category that needs a call-back."""
    return _case(engine, "i.assignee_worker_id = :w AND c.needs_callback")


@pytest.fixture(scope="module")
def plain_case(engine: Engine) -> dict:
    """A case assigned to the demo grid worker in a category without call-back."""
    return _case(engine, "i.assignee_worker_id = :w AND NOT c.needs_callback")


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("028-85551234") == "028*****1234"
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧***"
    assert mask_name(None) is None and mask_phone("") == ""


def test_categories_carry_the_call_back_and_public_flags(engine: Engine) -> None:
    with engine.connect() as conn:
        flags = dict(
            conn.execute(text("SELECT code, (public, needs_callback) FROM categories")).all()
        )
        channels = dict(conn.execute(text("SELECT code, public FROM channels")).all())
    assert flags["1004"] == "(f,t)"  # family disputes: never public, call the reporter back
    assert flags["1101"] == "(f,f)" and flags["1201"] == "(f,t)"
    assert flags["0404"] == "(t,f)" and flags["0102"] == "(t,f)"
    assert channels["petition"] is False and channels["resident_app"] is True


def test_planners_see_reporters_masked_and_unaudited(
    client, test_db: DemoDb, engine: Engine, plain_case: dict
) -> None:
    r = client.get(f"/incidents/{plain_case['id']}", headers=test_db.headers("planner"))
    assert r.status_code == 200
    reporter = r.json()["reporter"]
    assert reporter == {
        "name": mask_name(plain_case["reporter_name"]),
        "phone": mask_phone(plain_case["reporter_phone"]),
    }
    assert plain_case["reporter_phone"] not in r.text and plain_case["reporter_name"] not in r.text
    assert "****" in reporter["phone"] and reporter["name"].endswith("*")
    assert not [a for a in _audits(engine, plain_case["id"]) if a["role"] == "planner"]


def test_dispatchers_read_in_clear_and_the_read_is_audited(
    client, test_db: DemoDb, engine: Engine, plain_case: dict
) -> None:
    before = len(_audits(engine, plain_case["id"]))
    r = client.get(f"/incidents/{plain_case['id']}", headers=test_db.headers("dispatcher"))
    assert r.status_code == 200
    assert r.json()["reporter"] == {
        "name": plain_case["reporter_name"],
        "phone": plain_case["reporter_phone"],
    }
    audits = _audits(engine, plain_case["id"])
    assert len(audits) == before + 1
    last = audits[-1]
    assert last["role"] == "dispatcher" and last["actor"] == "demo:dispatcher"
    assert last["entity"] == "incidents" and last["data"]["face"] == "rest.case"
    assert last["data"]["fields"] == ["reporter_name", "reporter_phone"]
    assert TEST_NOW <= last["at"] < TEST_NOW + timedelta(hours=1)  # the app's clock


def test_the_assigned_grid_worker_calls_back_only_where_the_category_says(
    client, test_db: DemoDb, engine: Engine, callback_case: dict, plain_case: dict
) -> None:
    headers = test_db.headers("grid_worker")
    clear = client.get(f"/incidents/{callback_case['id']}", headers=headers)
    assert clear.status_code == 200
    assert clear.json()["reporter"]["phone"] == callback_case["reporter_phone"]
    assert [a["role"] for a in _audits(engine, callback_case["id"])] == ["grid_worker"]
    masked = client.get(f"/incidents/{plain_case['id']}", headers=headers)
    assert masked.status_code == 200
    assert masked.json()["reporter"]["phone"] == mask_phone(plain_case["reporter_phone"])


def test_a_call_back_case_of_someone_else_is_masked_for_a_planner(
    client, test_db: DemoDb, callback_case: dict
) -> None:
    r = client.get(f"/incidents/{callback_case['id']}", headers=test_db.headers("planner"))
    assert r.json()["reporter"]["phone"] == mask_phone(callback_case["reporter_phone"])


def test_a_grid_worker_gets_404_outside_their_cells(
    client, test_db: DemoDb, engine: Engine
) -> None:
    other = _case(
        engine,
        "i.assignee_worker_id <> :w AND i.l1_cell_id NOT IN (SELECT g.id FROM grid_cells g "
        "JOIN workers w ON w.cell_code = g.code WHERE w.id = :w)",
    )
    r = client.get(f"/incidents/{other['id']}", headers=test_db.headers("grid_worker"))
    assert r.status_code == 404 and other["reporter_phone"] not in r.text


def test_transitions_answer_the_same_masked_reporter(
    client, test_db: DemoDb, engine: Engine
) -> None:
    """A grid worker signing a dispatched case of a non-call-back category sees no clear phone."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT i.id, i.version, i.reporter_phone FROM incidents i "
                "JOIN categories c ON c.code = i.category_code WHERE i.status = 'dispatched' "
                "AND i.assignee_worker_id = :w AND i.reporter_phone IS NOT NULL "
                "AND NOT c.needs_callback ORDER BY i.id LIMIT 1"
            ),
            {"w": WORKER},
        ).first()
        if row is None:  # the small demo may have none: make one
            row = conn.execute(
                text(
                    "UPDATE incidents SET status = 'dispatched', reporter_phone = '13912345678' "
                    "WHERE id = (SELECT i.id FROM incidents i JOIN categories c "
                    "ON c.code = i.category_code WHERE i.assignee_worker_id = :w "
                    "AND NOT c.needs_callback ORDER BY i.id LIMIT 1) "
                    "RETURNING id, version, reporter_phone"
                ),
                {"w": WORKER},
            ).one()
            conn.commit()
    r = client.post(
        f"/incidents/{row.id}/transitions",
        json={"action": "sign", "version": row.version},
        headers=test_db.headers("grid_worker"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["reporter"]["phone"] == mask_phone(row.reporter_phone)
