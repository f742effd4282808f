"""The public service network over HTTP against the real database (issue 14).

Catalogue and search, the nearest station with free slots, booking / reading /
rescheduling / cancelling with the appointment token, every bad input refused
with nothing written, 200 concurrent bookings of a 10-place slot, reminders in
the outbox, the station's day and the KPIs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import ClassVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from grids.services.settings import ServicesSettings
from layers.store.settings import DatabaseSettings
from layers.tables.clocks import LOCAL_TZ
from tests.conftest import TEST_CLOCK, TEST_NOW

MON_9 = datetime(2026, 11, 2, 9, 0, tzinfo=LOCAL_TZ)
"""The first slot after TEST_NOW (Sunday 1 November 2026, noon in Chengdu)."""


@pytest.fixture(scope="module")
def app(test_db, tmp_path_factory) -> FastAPI:
    """The app with its media directory in a temporary folder."""
    media = tmp_path_factory.mktemp("media")
    settings = Settings(
        db=DatabaseSettings(database_url=test_db.url), services=ServicesSettings(media_dir=media)
    )
    return create_app(settings, clock=TEST_CLOCK)


@pytest.fixture(scope="module")
def offer(engine: Engine) -> dict:
    """A bookable item a service station offers, the station and where it is."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT sp.code AS point, si.code AS item, si.materials, ST_X(sp.geom) AS lon, "
                "ST_Y(sp.geom) AS lat, sp.community_id FROM service_offers o "
                "JOIN service_points sp ON sp.id = o.service_point_id "
                "JOIN service_items si ON si.id = o.item_id "
                "WHERE sp.kind = 'service_station' AND si.bookable AND NOT si.online "
                "AND cardinality(si.materials) >= 2 ORDER BY sp.code, si.code LIMIT 1"
            )
        ).one()
    return dict(row._mapping)


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("appointments", "appointment_slots", "service_outbox", "audit_log")
        )


def _booking(offer: dict, starts_at: datetime, **extra) -> dict:
    return {
        "item": offer["item"],
        "service_point": offer["point"],
        "starts_at": starts_at.isoformat(),
        "materials": list(offer["materials"]),
        "contact_name": "张三",
        "contact_phone": "13812345678",
    } | extra


def test_the_catalogue_has_the_seed_figures_and_searches_chinese(client: TestClient, engine):
    summary = client.get("/services/catalogue").json()
    assert (summary["items"], summary["bookable"], summary["online"]) == (580, 543, 252)
    assert {
        "社会保障",
        "民政事务",
        "户籍管理",
        "计划生育",
        "残疾人服务",
        "养老服务",
        "住房保障",
    } <= {g["name"] for g in summary["groups"]}
    found = client.get("/services/items", params={"q": "最低生活保障", "limit": 100}).json()
    assert found["total"] >= 5
    assert all("最低生活保障" in i["name"] for i in found["items"])
    assert found["items"][0]["materials"][0] == {"code": "id_card", "name": "居民身份证复印件"}
    online = client.get("/services/items", params={"online": "true", "limit": 1}).json()
    assert online["total"] == 252
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN SELECT id FROM service_items WHERE name ILIKE '%养老保险%'")
            ).scalars()
        )
    assert "ix_service_items_name_trgm" in plan
    assert client.get("/services/items/NOPE").json()["code"] == "unknown_item"


@pytest.fixture(scope="module")
def booked(client: TestClient, offer) -> tuple[dict, str, datetime]:
    """A resident finds the nearest station with a free slot and books its first one."""
    near = client.get(
        f"/services/{offer['item']}/nearest",
        params={"lon": offer["lon"] + 0.0005, "lat": offer["lat"], "limit": 3},
    )
    assert near.status_code == 200, near.text
    body = near.json()
    assert body["distance"] == "straight_line"
    first = body["points"][0]
    assert first["code"] == offer["point"]
    assert [p["distance_m"] for p in body["points"]] == sorted(
        p["distance_m"] for p in body["points"]
    )
    slot = datetime.fromisoformat(first["next_free_slots"][0]["starts_at"])
    assert slot == MON_9
    made = client.post("/services/appointments", json=_booking(offer, slot))
    assert made.status_code == 201, made.text
    return made.json(), made.json()["appointment_token"], slot


def test_a_resident_sees_only_their_own_booking(client: TestClient, booked):
    appt, token, _slot = booked
    url = f"/services/appointments/{appt['id']}"
    assert client.get(url).status_code == 404  # no token: as if it did not exist
    assert client.get(url, headers={"X-Appointment-Token": "guess"}).status_code == 404
    mine = client.get(url, headers={"X-Appointment-Token": token}).json()
    assert (mine["status"], mine["appointment_token"]) == ("booked", None)
    assert client.post(f"{url}/cancel", headers={"X-Appointment-Token": "x"}).status_code == 404


def test_a_resident_moves_and_cancels_their_booking(client: TestClient, engine, booked):
    appt, token, slot = booked
    url = f"/services/appointments/{appt['id']}"
    later = slot + timedelta(minutes=30)
    moved = client.post(
        f"{url}/reschedule",
        json={"starts_at": later.isoformat()},
        headers={"X-Appointment-Token": token},
    )
    assert moved.status_code == 200, moved.text
    with engine.connect() as conn:
        booked = dict(
            conn.execute(
                text("SELECT starts_at, booked FROM appointment_slots WHERE starts_at IN (:a, :b)"),
                {"a": slot, "b": later},
            ).all()
        )
    assert booked == {slot: 0, later: 1}
    gone = client.post(f"{url}/cancel", headers={"X-Appointment-Token": token})
    assert gone.json()["status"] == "cancelled"
    again = client.post(f"{url}/cancel", headers={"X-Appointment-Token": token})
    assert (again.status_code, again.json()["code"]) == (409, "appointment_not_active")
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT booked FROM appointment_slots WHERE starts_at = :b"), {"b": later}
            ).scalar_one()
            == 0
        )
        kinds = dict(
            conn.execute(
                text(
                    "SELECT kind || ':' || status, count(*) FROM service_outbox "
                    "WHERE appointment_id = :a GROUP BY 1"
                ),
                {"a": appt["id"]},
            ).all()
        )
        assert kinds == {
            "booked:pending": 1,
            "rescheduled:pending": 1,
            "cancelled:pending": 1,
            "reminder:void": 2,
        }
        body_text = " ".join(
            conn.execute(
                text("SELECT body FROM service_outbox WHERE appointment_id = :a"),
                {"a": appt["id"]},
            ).scalars()
        )
        assert "张三" not in body_text and "13812345678" not in body_text


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"item": "XX9999"}, 404, "unknown_item"),
        ({"service_point": "NOPE"}, 404, "unknown_service_point"),
        ({"starts_at": (TEST_NOW - timedelta(hours=2)).isoformat()}, 422, "slot_in_past"),
        ({"starts_at": (MON_9 - timedelta(hours=6)).isoformat()}, 422, "outside_opening_hours"),
        ({"starts_at": (MON_9 + timedelta(minutes=10)).isoformat()}, 422, "outside_opening_hours"),
        ({"starts_at": (MON_9 + timedelta(days=40)).isoformat()}, 422, "slot_too_far"),
        ({"materials": ["id_card"]}, 422, "missing_materials"),
        ({"document_ids": [999999]}, 422, "unknown_document"),
        ({"starts_at": "2026-11-02T09:00:00"}, 422, "invalid_input"),
    ],
)
def test_bad_bookings_are_refused_with_nothing_written(client, engine, offer, change, status, code):
    before = _counts(engine)
    answer = client.post("/services/appointments", json=_booking(offer, MON_9) | change)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code or (code == "invalid_input" and status == 422)
    assert _counts(engine) == before


def test_a_station_not_offering_or_an_item_not_bookable_is_refused(client, engine, offer):
    with engine.connect() as conn:
        police = conn.execute(
            text("SELECT code FROM service_points WHERE kind = 'police' ORDER BY code LIMIT 1")
        ).scalar_one()
        walk_in = conn.execute(
            text("SELECT code FROM service_items WHERE NOT bookable ORDER BY code LIMIT 1")
        ).scalar_one()
    before = _counts(engine)
    no = client.post("/services/appointments", json=_booking(offer, MON_9, service_point=police))
    assert (no.status_code, no.json()["code"]) == (422, "not_offered")
    nb = client.post("/services/appointments", json=_booking(offer, MON_9, item=walk_in))
    assert (nb.status_code, nb.json()["code"]) == (422, "not_bookable")
    assert _counts(engine) == before


def test_200_concurrent_bookings_of_10_places_book_exactly_10(client, engine, offer):
    slot = MON_9 + timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE service_offers SET staff = 10 WHERE service_point_id = "
                "(SELECT id FROM service_points WHERE code = :p) AND item_id = "
                "(SELECT id FROM service_items WHERE code = :i)"
            ),
            {"p": offer["point"], "i": offer["item"]},
        )
    body = _booking(offer, slot)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(
            pool.map(lambda _: client.post("/services/appointments", json=body), range(200))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 10 and statuses.count(409) == 190, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_full"}
    with engine.connect() as conn:
        booked, capacity, rows = conn.execute(
            text(
                "SELECT s.booked, s.capacity, (SELECT count(*) FROM appointments a "
                "WHERE a.slot_id = s.id AND a.status = 'booked') FROM appointment_slots s "
                "WHERE s.starts_at = :s"
            ),
            {"s": slot},
        ).one()
    assert (booked, capacity, rows) == (10, 10, 10)


def test_staff_see_the_day_mark_attendance_and_read_kpis(client, test_db, engine, offer):
    made = client.post("/services/appointments", json=_booking(offer, MON_9 + timedelta(hours=2)))
    appt_id = made.json()["id"]
    staff = test_db.headers("grid_worker")
    day = client.get(
        f"/services/stations/{offer['point']}/day", params={"date": "2026-11-02"}, headers=staff
    )
    assert day.status_code == 200, day.text
    mine = [a for a in day.json()["appointments"] if a["id"] == appt_id]
    assert mine and mine[0]["contact_name"] == "张*" and mine[0]["contact_phone"] == "138****5678"
    early = client.post(
        f"/services/appointments/{appt_id}/attendance", json={"kept": True}, headers=staff
    )
    assert (early.status_code, early.json()["code"]) == (422, "slot_not_begun")
    with engine.begin() as conn:  # the slot has begun: move it back in time
        conn.execute(
            text("UPDATE appointments SET starts_at = :t WHERE id = :i"),
            {"t": TEST_NOW - timedelta(hours=1), "i": appt_id},
        )
    kept = client.post(
        f"/services/appointments/{appt_id}/attendance", json={"kept": True}, headers=staff
    )
    assert kept.json()["status"] == "kept"
    kpis = client.get("/services/kpis", headers=test_db.headers("dispatcher")).json()
    station = {r["station"]: r for r in kpis["appointments"]["by_station"]}[offer["point"]]
    assert station["kept"] == 1 and station["kept_share"] == 1.0
    share = {r["station"]: r for r in kpis["online_share"]["by_station"]}[offer["point"]]
    assert share["online"] == share["matters"] >= 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = 'personal_data.read' "
                    "AND data->>'face' = 'services_day_view'"
                )
            ).scalar_one()
            >= 1
        )


def test_the_outbox_sends_with_a_pluggable_sender(app, client, test_db, engine):
    class Recorder:
        name = "recorder"
        seen: ClassVar[list[int]] = []

        def send(self, message) -> None:
            self.seen.append(message.id)

    app.state.service_sender = Recorder()
    try:
        run = client.post("/services/outbox/send", headers=test_db.headers("admin")).json()
    finally:
        app.state.service_sender = None
    assert run["sender"] == "recorder" and run["sent"] == len(Recorder.seen) >= 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM service_outbox WHERE sender = 'recorder' AND status = 'sent'"
                )
            ).scalar_one()
            == run["sent"]
        )
    assert (
        client.post("/services/outbox/send", headers=test_db.headers("admin")).json()["sent"] == 0
    )


def test_residents_swapping_slots_at_once_queue_instead_of_deadlocking(client, engine, offer):
    first, second = MON_9 + timedelta(hours=5), MON_9 + timedelta(hours=5, minutes=30)
    a = client.post("/services/appointments", json=_booking(offer, first)).json()
    b = client.post("/services/appointments", json=_booking(offer, second)).json()

    def move(appt: dict, to: datetime):
        return client.post(
            f"/services/appointments/{appt['id']}/reschedule",
            json={"starts_at": to.isoformat()},
            headers={"X-Appointment-Token": appt["appointment_token"]},
        ).status_code

    for _ in range(4):
        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = list(pool.map(lambda job: move(*job), [(a, second), (b, first)]))
        assert all(s in (200, 409) for s in statuses), statuses
        first, second = second, first
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.booked, (SELECT count(*) FROM appointments x WHERE x.slot_id = s.id "
                "AND x.status = 'booked') FROM appointment_slots s WHERE s.starts_at IN (:f, :s)"
            ),
            {"f": first, "s": second},
        ).all()
    assert all(booked == live for booked, live in rows) and sum(r[0] for r in rows) == 2


def test_a_walk_in_taken_into_a_slot_counts_as_offline(client, test_db, engine, offer):
    """Staff put a resident at the window into a slot: an appointment, but not an online one."""
    near = client.get(
        f"/services/{offer['item']}/nearest",
        params={"lon": offer["lon"], "lat": offer["lat"], "limit": 1, "slots": 3},
    ).json()
    assert near["points"][0]["code"] == offer["point"]
    slot = datetime.fromisoformat(near["points"][0]["next_free_slots"][-1]["starts_at"])
    body = _booking(offer, slot, channel="walk_in")
    before = _counts(engine)
    resident = client.post("/services/appointments", json=body)
    assert (resident.status_code, resident.json()["code"]) == (403, "walk_in_staff_only")
    assert _counts(engine) == before
    staff = test_db.headers("grid_worker")
    made = client.post("/services/appointments", json=body, headers=staff)
    assert made.status_code == 201, made.text
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT channel FROM appointments WHERE id = :i"), {"i": made.json()["id"]}
            ).scalar_one()
            == "walk_in"
        )
    kpis = client.get("/services/kpis", headers=test_db.headers("dispatcher")).json()
    share = {r["station"]: r for r in kpis["online_share"]["by_station"]}[offer["point"]]
    assert share["matters"] - share["online"] == 1
