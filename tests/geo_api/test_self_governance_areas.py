"""Self-governance areas: organisation density, the self-governance map, offers for residents,
and the demo's generator being deterministic."""

from __future__ import annotations

from sqlalchemy import text

from layers.demo.self_governance import write_self_governance
from tests.conftest import TEST_NOW, TEST_SEED
from tests.geo_api.test_maps_http import local_only


def test_density_is_organisations_per_10k_residents(client, test_db, engine):
    h = test_db.headers("planner")
    before = client.get("/self-governance/density", headers=h).json()
    assert before["national_average"] == 7.0 and len(before["areas"]) == 110
    target = before["areas"][0]
    with engine.begin() as conn:
        org = conn.execute(
            text("INSERT INTO social_organisations (code, name) VALUES ('T1', '测试') RETURNING id")
        ).scalar()
        conn.execute(
            text(
                "INSERT INTO social_organisation_communities SELECT :o, id FROM communities"
                " WHERE code = :c"
            ),
            {"o": org, "c": target["code"]},
        )
        residents = conn.execute(
            text(
                "SELECT sum(b.population) FROM buildings b JOIN communities m"
                " ON m.id = b.community_id WHERE m.code = :c"
            ),
            {"c": target["code"]},
        ).scalar()
    after = client.get("/self-governance/density", headers=h).json()
    (now,) = [a for a in after["areas"] if a["code"] == target["code"]]
    assert now["organisations"] == target["organisations"] + 1
    assert now["residents"] == residents
    assert now["per_10k"] == round(now["organisations"] * 10_000 / residents, 2)
    assert now["below_average"] == (now["per_10k"] < 7)
    streets = client.get("/self-governance/density", params={"level": "street"}, headers=h)
    assert len(streets.json()["areas"]) == 14
    street_areas = streets.json()["areas"]
    assert sum(a["residents"] for a in street_areas) == sum(a["residents"] for a in after["areas"])
    assert all(
        a["per_10k"] == round(a["organisations"] * 10_000 / a["residents"], 2) for a in street_areas
    )
    assert (
        client.get("/self-governance/density", params={"level": "x"}, headers=h).status_code == 400
    )


def test_the_map_shows_uncovered_three_nos_courtyards_with_local_assets(client, test_db, engine):
    r = client.get("/maps/self-governance", headers=test_db.headers("grid_worker"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert local_only(r.text) == []
    assert "three-nos courtyards with nobody on duty" in r.text
    assert r.text.count("social organisations per 10,000 residents: ") >= 2  # communities, streets
    with engine.connect() as conn:
        bare = conn.execute(
            text(
                "SELECT code FROM courtyards c WHERE is_three_nos AND NOT EXISTS (SELECT 1"
                " FROM courtyard_shifts s WHERE s.courtyard_id = c.id)"
            )
        ).scalars()
        assert all(code in r.text for code in bare)
    assert client.get("/maps/self-governance").status_code == 401


def test_residents_see_offers_near_them_without_personal_data(client, engine):
    with engine.connect() as conn:
        offer = conn.execute(
            text(
                "SELECT o.id, o.title, ST_X(ST_PointOnSurface(c.geom)) AS lon,"
                " ST_Y(ST_PointOnSurface(c.geom)) AS lat FROM enterprise_offers o"
                " JOIN courtyards c ON c.id = o.courtyard_id ORDER BY o.id LIMIT 1"
            )
        ).one()
        phones = conn.execute(
            text(
                "SELECT phone FROM courtyard_members WHERE phone IS NOT NULL UNION"
                " SELECT contact_phone FROM social_organisations WHERE contact_phone IS NOT NULL"
            )
        ).scalars()
        phones = list(phones)
    q = {"lon": offer.lon, "lat": offer.lat, "radius": 300}
    r = client.get("/residents/offers", params=q)
    assert r.status_code == 200, r.text
    assert offer.id in [o["id"] for o in r.json()]
    assert r.json()[0]["distance_m"] == 0
    page = client.get("/maps/residents", params=q)
    assert page.status_code == 200 and offer.title in page.text
    assert "enterprise offers" in page.text
    for text_ in (r.text, page.text):
        assert not any(p in text_ for p in phones)


SELF_GOVERNANCE_TABLES = (
    "courtyard_shifts",
    "courtyard_members",
    "enterprise_offers",
    "social_organisation_courtyards",
    "social_organisation_communities",
    "social_organisations",
    "courtyard_groups",
)
"""Children first, as `demo load --replace` clears them."""


def _rewrite_and_digest(conn) -> dict[str, str]:
    for t in SELF_GOVERNANCE_TABLES:
        conn.execute(text(f"DELETE FROM {t}"))
    write_self_governance(conn, seed=TEST_SEED, now=TEST_NOW)
    return {
        t: conn.execute(
            text(
                f"SELECT count(*) || ':' || md5(string_agg(x::text, '|' ORDER BY x::text)) FROM {t} x"
            )
        ).scalar()
        for t in SELF_GOVERNANCE_TABLES
    }


def test_the_demo_generator_is_deterministic(engine):
    with engine.connect() as conn:
        tx = conn.begin()
        first = _rewrite_and_digest(conn)
        second = _rewrite_and_digest(conn)
        tx.rollback()
    assert first == second
    assert all(not v.startswith("0:") for v in first.values())
