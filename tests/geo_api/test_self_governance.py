"""Courtyard self-governance over HTTP: the rota refuses overlaps (also concurrently), coverage
counts hours once, check-in/out, patrol reports land through the intake, scope and masking."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from layers.tables.clocks import LOCAL_TZ
from tests.conftest import TEST_CLOCK

WEEK = datetime(2027, 3, 1, tzinfo=LOCAL_TZ)
"""A Monday far from the demo's rota (which fills the week of TEST_NOW only)."""


def at(day: int, hour: int) -> str:
    """A moment of `WEEK` (day 0 = Monday), ISO 8601."""
    return (WEEK + timedelta(days=day, hours=hour)).isoformat()


@pytest.fixture(scope="module")
def yard(engine) -> dict:
    """A courtyard with at least three members, and three of them."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT courtyard_id, array_agg(id ORDER BY id) AS ids FROM courtyard_members"
                " GROUP BY courtyard_id HAVING count(*) >= 3 ORDER BY courtyard_id LIMIT 1"
            )
        ).one()
    return {"id": row.courtyard_id, "members": row.ids[:3]}


def book(client, test_db, yard_id: int, member: int, start: str, end: str, role="dispatcher"):
    body = {"courtyard_id": yard_id, "member_id": member, "start": start, "end": end}
    return client.post("/self-governance/shifts", json=body, headers=test_db.headers(role))


def hours(client, test_db, yard_id: int, week: str) -> float:
    r = client.get(
        "/self-governance/coverage", params={"week": week}, headers=test_db.headers("planner")
    )
    assert r.status_code == 200, r.text
    (item,) = [c for c in r.json()["courtyards"] if c["courtyard_id"] == yard_id]
    return item["hours_covered"]


def test_the_demo_has_three_nos_courtyards_with_nobody_on_duty(client, test_db, engine):
    r = client.get(
        "/self-governance/coverage",
        params={"three_nos_only": "true"},
        headers=test_db.headers("planner"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["courtyards"] and all(c["is_three_nos"] for c in body["courtyards"])
    bare = [c for c in body["courtyards"] if c["hours_covered"] == 0]
    assert body["uncovered_three_nos"] == len(bare) > 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM courtyard_shifts")).scalar() > 0


def test_a_persons_overlapping_shift_is_refused_and_nothing_is_written(
    client, test_db, engine, yard
):
    a, b, _ = yard["members"]
    first = book(client, test_db, yard["id"], a, at(2, 8), at(2, 12))
    assert first.status_code == 201, first.text
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM courtyard_shifts")).scalar()
    clash = book(client, test_db, yard["id"], a, at(2, 10), at(2, 14))
    assert clash.status_code == 409
    assert clash.json()["code"] == "shift_overlap"
    assert clash.json()["conflicting_shift_ids"] == [first.json()["id"]]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM courtyard_shifts")).scalar() == before
    # Half-open periods: the next shift may start when the first ends; another person may overlap.
    assert book(client, test_db, yard["id"], a, at(2, 12), at(2, 14)).status_code == 201
    assert book(client, test_db, yard["id"], b, at(2, 10), at(2, 13)).status_code == 201
    assert book(client, test_db, yard["id"], b, at(2, 14), at(2, 13)).json()["code"] == (
        "invalid_period"
    )
    assert book(client, test_db, yard["id"], b, at(3, 0), at(4, 1)).json()["code"] == (
        "shift_too_long"
    )


def test_the_database_itself_refuses_the_overlap(engine, yard):
    a = yard["members"][0]
    with pytest.raises(IntegrityError, match="ex_courtyard_shifts_member_overlap"):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO courtyard_shifts (courtyard_id, member_id, during, created_by)"
                    " VALUES (:y, :m, tstzrange(:s, :e, '[)'), 'test')"
                ),
                {"y": yard["id"], "m": a, "s": at(2, 9), "e": at(2, 11)},
            )


def test_one_person_in_two_courtyards_cannot_overlap_in_either(client, test_db, engine, yard):
    later = lambda day, hour: at(day + 21, hour)  # noqa: E731 - a week no other test uses
    with engine.begin() as conn:
        other, person = conn.execute(
            text(
                "SELECT (SELECT id FROM courtyards WHERE id <> :y ORDER BY id LIMIT 1),"
                " (SELECT min(id) FROM persons)"
            ),
            {"y": yard["id"]},
        ).one()
        add = text(
            "INSERT INTO courtyard_members (courtyard_id, role, name, person_id)"
            " VALUES (:y, 'volunteer', '李四', :p) RETURNING id"
        )
        here = conn.execute(add, {"y": yard["id"], "p": person}).scalar()
        there = conn.execute(add, {"y": other, "p": person}).scalar()
        unlinked = conn.execute(add, {"y": other, "p": None}).scalar()
    first = book(client, test_db, yard["id"], here, later(0, 8), later(0, 12))
    assert first.status_code == 201, first.text
    clash = book(client, test_db, other, there, later(0, 10), later(0, 14))
    assert clash.status_code == 409 and clash.json()["code"] == "shift_overlap"
    assert clash.json()["conflicting_shift_ids"] == [first.json()["id"]]
    assert book(client, test_db, other, there, later(0, 12), later(0, 14)).status_code == 201
    # a record linked to the person later: its overlapping shift refuses the link
    assert book(client, test_db, other, unlinked, later(0, 9), later(0, 10)).status_code == 201
    with pytest.raises(IntegrityError, match="ex_courtyard_shifts_person_overlap"):
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE courtyard_members SET person_id = :p WHERE id = :m"),
                {"p": person, "m": unlinked},
            )


def test_coverage_is_the_union_of_the_shifts_hours(client, test_db, yard):
    # Wednesday: a 08-12 + 12-14, b 10-13 (set by the test above) -> 08-14 = 6 h, overlap once.
    _, _, c = yard["members"]
    week = WEEK.date().isoformat()
    assert hours(client, test_db, yard["id"], week) == 6.0
    # A shift across the week's end counts only its hours inside the week (Sun 22 - Mon 02).
    assert book(client, test_db, yard["id"], c, at(6, 22), at(7, 2)).status_code == 201
    assert hours(client, test_db, yard["id"], week) == 8.0
    next_week = (WEEK + timedelta(days=7)).date().isoformat()
    assert hours(client, test_db, yard["id"], next_week) == 2.0
    rota = client.get(
        f"/self-governance/courtyards/{yard['id']}/shifts",
        params={"start": at(0, 0), "end": at(7, 0)},
        headers=test_db.headers("grid_worker"),
    )
    assert rota.status_code == 200
    assert len(rota.json()) == 4
    assert all("*" in s["member"]["phone"] for s in rota.json() if s["member"]["phone"])


def test_a_grid_worker_keeps_the_rota_of_their_own_community_only(client, test_db, engine):
    with engine.begin() as conn:
        own, other = conn.execute(
            text(
                "SELECT (SELECT c.id FROM courtyards c WHERE c.community_id = w.community_id"
                "        ORDER BY c.id LIMIT 1),"
                "       (SELECT c.id FROM courtyards c WHERE c.community_id <> w.community_id"
                "        ORDER BY c.id LIMIT 1)"
                " FROM workers w WHERE w.id = 1"  # the demo grid worker key's worker
            )
        ).one()
        assert own is not None and other is not None
        members = {
            yard: conn.execute(
                text(
                    "INSERT INTO courtyard_members (courtyard_id, role, name)"
                    " VALUES (:y, 'volunteer', '测试') RETURNING id"
                ),
                {"y": yard},
            ).scalar()
            for yard in (own, other)
        }
    gw = "grid_worker"
    assert book(client, test_db, own, members[own], at(1, 8), at(1, 9), gw).status_code == 201
    hidden = book(client, test_db, other, members[other], at(1, 8), at(1, 9), gw)
    assert hidden.status_code == 404 and hidden.json()["code"] == "courtyard_not_found"
    shift = book(client, test_db, other, members[other], at(1, 8), at(1, 9)).json()
    r = client.post(
        f"/self-governance/shifts/{shift['id']}/check-in",
        json={"member_id": members[other]},
        headers=test_db.headers(gw),
    )
    assert r.status_code == 404


@pytest.fixture(scope="module")
def live_shift(client, test_db, yard) -> dict:
    """A shift of the third member running now (the app's clock)."""
    now = TEST_CLOCK()
    m = yard["members"][2]
    r = book(
        client,
        test_db,
        yard["id"],
        m,
        (now - timedelta(hours=1)).isoformat(),
        (now + timedelta(hours=3)).isoformat(),
        role="dispatcher",
    )
    assert r.status_code == 201, r.text
    return {**r.json(), "member": m}


def test_check_in_and_check_out(client, test_db, engine, yard, live_shift):
    url = f"/self-governance/shifts/{live_shift['id']}"
    h = test_db.headers("dispatcher")
    me, other = {"member_id": live_shift["member"]}, {"member_id": yard["members"][0]}
    assert client.post(f"{url}/check-in", json=other, headers=h).json()["code"] == "not_your_shift"
    assert client.post(f"{url}/check-out", json=me, headers=h).json()["code"] == "not_checked_in"
    r = client.post(f"{url}/check-in", json=me, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["checked_in_at"] is not None
    again = client.post(f"{url}/check-in", json=me, headers=h)
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    out = client.post(f"{url}/check-out", json=me, headers=h)
    assert out.status_code == 200 and out.json()["checked_out_at"] >= r.json()["checked_in_at"]
    later = book(client, test_db, yard["id"], me["member_id"], at(5, 8), at(5, 9)).json()
    early = client.post(f"/self-governance/shifts/{later['id']}/check-in", json=me, headers=h)
    assert early.status_code == 409 and early.json()["code"] == "outside_shift"
    with engine.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT action FROM audit_log WHERE entity = 'courtyard_shifts'"
                " AND entity_id = :i ORDER BY id"
            ),
            {"i": str(live_shift["id"])},
        ).scalars()
        assert list(actions) == [
            "courtyard_shift.create",
            "courtyard_shift.check_in",
            "courtyard_shift.check_out",
        ]


def test_what_the_patrol_saw_lands_as_a_case_through_the_intake(
    client, test_db, engine, yard, live_shift
):
    url = f"/self-governance/shifts/{live_shift['id']}/reports"
    body = {"member_id": live_shift["member"], "category": "0101", "description": "楼道堆放杂物"}
    r = client.post(url, json=body, headers=test_db.headers("dispatcher"))
    assert r.status_code == 201, r.text
    case_id = r.json()["incident_id"]
    assert r.json()["channel"] == "courtyard_patrol"
    seen = client.get(f"/incidents/{case_id}", headers=test_db.headers("dispatcher"))
    assert seen.status_code == 200
    assert seen.json()["channel"] == "courtyard_patrol"
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT i.channel_code, i.reporter_name, m.name, i.community_id, c.community_id"
                " AS yard_community, e.action FROM incidents i"
                " JOIN courtyard_members m ON m.id = :m JOIN courtyards c ON c.id = :y"
                " JOIN incident_events e ON e.incident_id = i.id WHERE i.id = :i"
            ),
            {"i": case_id, "m": live_shift["member"], "y": yard["id"]},
        ).one()
        assert row.channel_code == "courtyard_patrol" and row.action == "report"
        assert row.reporter_name == row.name
        assert row.community_id == row.yard_community
        linked = conn.execute(
            text(
                "SELECT data->>'incident_id' FROM audit_log WHERE action = 'courtyard_patrol.report'"
            )
        ).scalar()
        assert linked == str(case_id)
    fresh = book(client, test_db, yard["id"], yard["members"][1], at(5, 8), at(5, 9)).json()
    body["member_id"] = yard["members"][1]
    refused = client.post(
        f"/self-governance/shifts/{fresh['id']}/reports",
        json=body,
        headers=test_db.headers("dispatcher"),
    )
    assert refused.status_code == 409 and refused.json()["code"] == "not_checked_in"


def test_member_contacts_are_masked_for_grid_workers_clear_and_audited_for_dispatch(
    client, test_db, engine, yard
):
    url = f"/self-governance/courtyards/{yard['id']}"
    masked = client.get(url, headers=test_db.headers("grid_worker")).json()
    clear = client.get(url, headers=test_db.headers("dispatcher")).json()
    pairs = list(zip(masked["members"], clear["members"], strict=True))
    assert pairs and all(m["id"] == c["id"] for m, c in pairs)
    assert all(m["name"].endswith("*") and m["name"] != c["name"] for m, c in pairs)
    assert client.get(url).status_code == 401
    with engine.connect() as conn:
        audits = conn.execute(
            text(
                "SELECT role FROM audit_log WHERE action = 'personal_data.read'"
                " AND entity = 'courtyard_members'"
            )
        ).scalars()
        assert set(audits) == {"dispatcher"}


INSERT_SHIFT = text(
    "INSERT INTO courtyard_shifts (courtyard_id, member_id, during, created_by)"
    " VALUES (:y, :m, tstzrange(:s, :e, '[)'), 'test')"
)


def test_concurrent_bookings_of_one_person_cannot_both_succeed(engine, yard):
    m = yard["members"][1]
    outcome: dict[str, str] = {}

    def second() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(
                    INSERT_SHIFT, {"y": yard["id"], "m": m, "s": at(4, 10), "e": at(4, 14)}
                )
            outcome["second"] = "written"
        except IntegrityError as exc:
            outcome["second"] = "refused" if "member_overlap" in str(exc.orig) else str(exc)

    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(INSERT_SHIFT, {"y": yard["id"], "m": m, "s": at(4, 8), "e": at(4, 12)})
        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the second booking waits for the first to decide"
        tx.commit()
    other.join(10)
    assert outcome == {"second": "refused"}
