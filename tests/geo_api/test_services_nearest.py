"""The nearest station with free slots, beyond the first candidates and by address (issue 14).

Round 2: a near station booked out over the whole horizon must not hide a
farther one with room; `address=` is geocoded by the base-data geocoder.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK, TEST_NOW


@pytest.fixture(scope="module")
def app(test_db) -> FastAPI:
    return create_app(Settings(db=DatabaseSettings(database_url=test_db.url)), clock=TEST_CLOCK)


@pytest.fixture(scope="module")
def offer(engine: Engine) -> dict:
    """A bookable item a service station offers, and where the station is."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT sp.code AS point, si.code AS item, ST_X(sp.geom) AS lon, "
                "ST_Y(sp.geom) AS lat FROM service_offers o "
                "JOIN service_points sp ON sp.id = o.service_point_id "
                "JOIN service_items si ON si.id = o.item_id "
                "WHERE sp.kind = 'service_station' AND si.bookable AND NOT si.online "
                "AND cardinality(si.materials) >= 2 ORDER BY sp.code, si.code LIMIT 1"
            )
        ).one()
    return dict(row._mapping)


def test_nearest_looks_past_full_stations_to_a_farther_one_with_room(client, engine, offer):
    """The 3 nearest offering stations (3 × limit, the old candidate window) are full.

    Every half hour of the horizon at those three is booked out in the slot
    counters; the answer must go on to the 4th station rather than answer nothing.
    """
    with engine.connect() as conn:
        item = conn.execute(
            text(
                "SELECT si.code FROM service_items si JOIN service_offers o ON o.item_id = si.id "
                "WHERE si.bookable AND si.code <> :c GROUP BY si.code HAVING count(*) >= 5 "
                "ORDER BY si.code LIMIT 1"
            ),
            {"c": offer["item"]},
        ).scalar_one()
    where = {"lon": offer["lon"], "lat": offer["lat"]}
    ranked = client.get(f"/services/{item}/nearest", params=where | {"limit": 5}).json()
    codes = [p["code"] for p in ranked["points"]]
    assert len(codes) == 5 and ranked["scan_bound_reached"] is False
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO appointment_slots "
                "(service_point_id, item_id, starts_at, ends_at, capacity, booked) "
                "SELECT sp.id, si.id, t, t + interval '30 minutes', 1, 1 "
                "FROM service_points sp, service_items si, generate_series("
                "date_trunc('hour', CAST(:now AS timestamptz)), "
                "CAST(:now AS timestamptz) + interval '16 days', interval '30 minutes') t "
                "WHERE sp.code = ANY(:full) AND si.code = :item "
                "ON CONFLICT (service_point_id, item_id, starts_at) "
                "DO UPDATE SET capacity = 1, booked = 1"
            ),
            {"now": TEST_NOW, "full": codes[:3], "item": item},
        )
    one = client.get(f"/services/{item}/nearest", params=where | {"limit": 1})
    assert one.status_code == 200, one.text
    assert [p["code"] for p in one.json()["points"]] == [codes[3]]
    assert one.json()["scanned"] == 4
    two = client.get(f"/services/{item}/nearest", params=where | {"limit": 2}).json()
    assert [p["code"] for p in two["points"]] == codes[3:5]
    unknown = client.get("/services/XX9999/nearest", params=where)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_item")
    with engine.connect() as conn:
        closed = conn.execute(
            text("SELECT code FROM service_items WHERE NOT bookable ORDER BY code LIMIT 1")
        ).scalar_one()
    refused = client.get(f"/services/{closed}/nearest", params=where)
    assert (refused.status_code, refused.json()["code"]) == (422, "not_bookable")


def test_nearest_by_a_residents_address_geocodes_it_first(client, engine, offer):
    """`address=` instead of lon/lat: the base-data geocoder's best standard address."""
    with engine.connect() as conn:
        addr = conn.execute(
            text(
                "SELECT full_text, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM addresses "
                "ORDER BY id LIMIT 1"
            )
        ).one()
    url = f"/services/{offer['item']}/nearest"
    by_text = client.get(url, params={"address": addr.full_text, "limit": 3})
    assert by_text.status_code == 200, by_text.text
    assert by_text.json()["query"]["matched"] == addr.full_text
    by_point = client.get(url, params={"lon": addr.lon, "lat": addr.lat, "limit": 3}).json()
    assert [p["code"] for p in by_text.json()["points"]] == [p["code"] for p in by_point["points"]]
    none = client.get(url, params={"address": "火星大道999号"})
    assert (none.status_code, none.json()["code"]) == (422, "address_not_found")
    nowhere = client.get(url)
    assert (nowhere.status_code, nowhere.json()["code"]) == (400, "location_required")
