"""Proxy handling (网下代办) through every step on working days, 全区通办, and the 证照库.

A request opened online is accepted at a station of another community, its
materials collected from the resident's library, submitted to the owning
department's queue, decided and handed over; each step's deadline falls on a
working day of the district's calendar (a local rest day included).  Documents
are stored once with consent, read by their owner or for a purpose, audited,
deleted on request, and never listed to anyone else.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from grids.cases.access import Actor
from grids.cases.reference import forget_reference
from grids.services.documents import expire_documents, purge_files
from grids.services.settings import ServicesSettings
from layers.core.roles import SYSTEM, Role
from layers.store.db import make_sessionmaker, transaction
from layers.store.settings import DatabaseSettings
from layers.tables.clocks import LOCAL_TZ
from tests.conftest import TEST_CLOCK

PNG = b"\x89PNG\r\n\x1a\n" + b"scan of an id card" * 10


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """This module's media directory."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def app(test_db, media) -> FastAPI:
    """The app storing documents under `media`."""
    settings = Settings(
        db=DatabaseSettings(database_url=test_db.url), services=ServicesSettings(media_dir=media)
    )
    return create_app(settings, clock=TEST_CLOCK)


@pytest.fixture(scope="module")
def places(engine: Engine) -> dict:
    """An item needing only an ID card, two stations of different communities, a home point."""
    with engine.connect() as conn:
        item = conn.execute(
            text(
                "SELECT code, department_code, time_limit_days FROM service_items "
                "WHERE materials = ARRAY['id_card'] ORDER BY code LIMIT 1"
            )
        ).one()
        stations = conn.execute(
            text(
                "SELECT sp.code, sp.community_id, ST_X(sp.geom) AS lon, ST_Y(sp.geom) AS lat "
                "FROM service_points sp WHERE sp.kind = 'service_station' "
                "AND sp.community_id IS NOT NULL ORDER BY sp.code LIMIT 2"
            )
        ).all()
    return {"item": item, "home": stations[0], "away": stations[1]}


@pytest.fixture(scope="module")
def rest_day(engine: Engine):
    """Monday 2 November 2026 made a local rest day, for this module."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO calendar_overrides (day, is_working_day, note) "
                "VALUES ('2026-11-02', false, 'test')"
            )
        )
    forget_reference()
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM calendar_overrides WHERE day = '2026-11-02'"))
    forget_reference()


def _upload(client: TestClient, token: str | None = None, **extra):
    body = {
        "kind": "id_card",
        "media_type": "image/png",
        "content_base64": base64.b64encode(PNG).decode(),
        "consent": True,
    } | extra
    headers = {"X-Library-Token": token} if token else {}
    return client.post("/services/documents", json=body, headers=headers)


def _local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(LOCAL_TZ)


def test_the_library_stores_once_with_consent_and_shows_only_the_owner(client, engine, media):
    before = _counts(engine)
    refused = _upload(client, consent=False)
    assert (refused.status_code, refused.json()["code"]) == (422, "consent_required")
    bad = _upload(client, content_base64=base64.b64encode(b"not an image").decode())
    assert (bad.status_code, bad.json()["code"]) == (422, "unsupported_document")
    assert _counts(engine) == before
    first = _upload(client)
    assert first.status_code == 201, first.text
    token = first.json()["library_token"]
    second = _upload(client, token)
    assert second.json()["library_token"] == token
    sha = hashlib.sha256(PNG).hexdigest()
    assert [p.name for p in media.rglob("*") if p.is_file()] == [sha]
    assert len(client.get("/services/documents", headers={"X-Library-Token": token}).json()) == 2
    assert client.get("/services/documents").json() == []
    doc = first.json()["id"]
    assert client.get(f"/services/documents/{doc}/content").status_code == 404
    own = client.get(f"/services/documents/{doc}/content", headers={"X-Library-Token": token})
    assert own.content == PNG and own.headers["cache-control"] == "no-store"
    with engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT string_agg(coalesce(data::text, ''), ' ') FROM audit_log "
                "WHERE entity = 'resident_documents'"
            )
        ).scalar_one()
    assert sha not in logged and "scan of" not in logged


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("resident_documents", "proxy_requests", "proxy_events", "audit_log")
        )


def _step(client, test_db, rid: int, **body):
    answer = client.post(
        f"/services/proxy/{rid}/transitions", json=body, headers=test_db.headers("grid_worker")
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def submitted(client, test_db, places, rest_day) -> dict:
    """A request opened online (ID card from the library), accepted away from home, submitted."""
    up = _upload(client)
    token, doc = up.json()["library_token"], up.json()["id"]
    home = places["home"]
    made = client.post(
        "/services/proxy",
        json={
            "item": places["item"].code,
            "document_ids": [doc],
            "lon": home.lon,
            "lat": home.lat,
            "contact_name": "李四",
        },
        headers={"X-Library-Token": token},
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    steps = {"requested": made.json(), "follow": made.json()["proxy_token"], "doc": doc}
    resident = client.post(
        f"/services/proxy/{rid}/transitions",
        json={"action": "accept"},
        headers={"X-Proxy-Token": steps["follow"]},
    )
    assert (resident.status_code, resident.json()["code"]) == (403, "staff_only")
    wrong = client.post(
        f"/services/proxy/{rid}/transitions",
        json={"action": "submit"},
        headers=test_db.headers("grid_worker"),
    )
    assert (wrong.status_code, wrong.json()["code"]) == (409, "invalid_transition")
    steps["accepted"] = _step(
        client, test_db, rid, action="accept", service_point=places["away"].code
    )
    _step(client, test_db, rid, action="collect")  # the ID card comes from the library
    steps["submitted"] = _step(client, test_db, rid, action="submit")
    return steps


def test_each_step_is_due_on_working_days_with_local_rest_days(submitted, places):
    # Requested on Sunday 1 November; Monday 2 is a local rest day: due Tuesday 18:00.
    assert _local(submitted["requested"]["due_at"]) == datetime(2026, 11, 3, 18, 0, tzinfo=LOCAL_TZ)
    accepted = submitted["accepted"]
    assert accepted["accepting_station"] == places["away"].code
    assert _local(accepted["due_at"]).date() == date(2026, 11, 4)  # 2 working days
    sub = submitted["submitted"]
    assert _local(sub["due_at"]) == _local(sub["deadlines"]["submitted"]["due_at"])
    assert sub["deadlines"]["submitted"]["working_days"] == places["item"].time_limit_days


def test_the_department_decides_and_the_resident_follows_to_pickup(
    client, test_db, engine, places, submitted
):
    rid, follow, doc = submitted["requested"]["id"], submitted["follow"], submitted["doc"]
    queue = client.get(
        f"/services/departments/{places['item'].department_code}/queue",
        headers=test_db.headers("dispatcher"),
    ).json()
    assert [(r["id"], r["accepting_station"]) for r in queue["requests"]] == [
        (rid, places["away"].code)
    ]
    _staff_read_needs_a_purpose(client, test_db, doc, rid)
    _step(client, test_db, rid, action="decide", result="approved")
    closed = _step(client, test_db, rid, action="hand_over", handover="pickup")
    assert (closed["status"], closed["result"], closed["handover"]) == (
        "closed",
        "approved",
        "pickup",
    )
    seen = client.get(f"/services/proxy/{rid}", headers={"X-Proxy-Token": follow}).json()
    assert [e["to_status"] for e in seen["events"]] == [
        "requested",
        "accepted",
        "materials_collected",
        "submitted",
        "decided",
        "closed",
    ]
    assert "actor" not in seen["events"][1]
    assert client.get(f"/services/proxy/{rid}").status_code == 404
    assert all(step["on_time"] for step in seen["deadlines"].values() if "done_at" in step)
    _kpis_and_audit(client, test_db, engine, rid)


def _staff_read_needs_a_purpose(client, test_db, doc: int, rid: int) -> None:
    staff_read = client.get(
        f"/services/documents/{doc}/content", headers=test_db.headers("grid_worker")
    )
    assert (staff_read.status_code, staff_read.json()["code"]) == (403, "purpose_required")
    for_purpose = client.get(
        f"/services/documents/{doc}/content",
        params={"purpose": "proxy_handling", "proxy_request": rid},
        headers=test_db.headers("grid_worker"),
    )
    assert for_purpose.content == PNG


def _kpis_and_audit(client, test_db, engine, rid: int) -> None:
    kpis = client.get("/services/kpis", headers=test_db.headers("admin")).json()["proxy"]
    assert kpis["closed"] == kpis["closed_on_time"] == 1
    assert kpis["district_wide"]["away_from_home"] == 1
    with engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE entity = 'proxy_requests' AND entity_id = :i"
            ),
            {"i": str(rid)},
        ).scalar_one()
    assert audited == 6


def test_missing_materials_stop_collection_and_write_nothing(client, test_db, engine):
    with engine.connect() as conn:
        item = conn.execute(
            text(
                "SELECT code FROM service_items WHERE cardinality(materials) >= 2 "
                "ORDER BY code LIMIT 1"
            )
        ).scalar_one()
        station = conn.execute(
            text(
                "SELECT code FROM service_points WHERE kind = 'service_station' "
                "ORDER BY code LIMIT 1"
            )
        ).scalar_one()
    rid = client.post("/services/proxy", json={"item": item}).json()["id"]
    _step(client, test_db, rid, action="accept", service_point=station)
    before = _counts(engine)
    answer = client.post(
        f"/services/proxy/{rid}/transitions",
        json={"action": "collect"},
        headers=test_db.headers("grid_worker"),
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "missing_materials")
    assert _counts(engine) == before
    unknown = client.post("/services/proxy", json={"item": "XX0000"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_item")
    walk_in = client.post("/services/proxy", json={"item": item, "channel": "walk_in"})
    assert (walk_in.status_code, walk_in.json()["code"]) == (403, "walk_in_staff_only")
    assert _counts(engine) == before


def test_deletion_on_request_removes_the_file_once_unreferenced(client, engine, media):
    content = PNG + b"another"
    up = client.post(
        "/services/documents",
        json={
            "kind": "photo",
            "media_type": "image/png",
            "consent": True,
            "content_base64": base64.b64encode(content).decode(),
        },
    )
    doc, token = up.json()["id"], up.json()["library_token"]
    sha = hashlib.sha256(content).hexdigest()
    assert (media / sha[:2] / sha).exists()
    assert client.delete(f"/services/documents/{doc}").status_code == 404  # not the owner
    gone = client.delete(f"/services/documents/{doc}", headers={"X-Library-Token": token})
    assert gone.status_code == 204
    assert not (media / sha[:2] / sha).exists()
    assert (
        client.get(
            f"/services/documents/{doc}/content", headers={"X-Library-Token": token}
        ).status_code
        == 404
    )


def test_documents_past_their_retention_expire_and_their_files_go(client, engine, media):
    content = PNG + b"expiring"
    up = client.post(
        "/services/documents",
        json={
            "kind": "photo",
            "media_type": "image/png",
            "consent": True,
            "content_base64": base64.b64encode(content).decode(),
        },
    )
    doc, token = up.json()["id"], up.json()["library_token"]
    path = media / hashlib.sha256(content).hexdigest()[:2] / hashlib.sha256(content).hexdigest()
    later = datetime.fromisoformat(up.json()["retention_until"]) + timedelta(days=1)
    maker = make_sessionmaker(engine)
    with transaction(maker) as session:
        shas = expire_documents(session=session, actor=Actor(SYSTEM, Role.ADMIN), now=later)
    with maker() as session:
        assert purge_files(session=session, root=media, shas=shas) >= 1
    assert not path.exists()
    assert client.get("/services/documents", headers={"X-Library-Token": token}).json() == []
    assert (
        client.get(
            f"/services/documents/{doc}/content", headers={"X-Library-Token": token}
        ).status_code
        == 404
    )
