"""The demo's courtyard cameras: a share of courtyards is covered, 三无院落 less so."""

from __future__ import annotations

from sqlalchemy import text


def test_courtyards_are_covered_and_three_nos_less(client, test_db, engine):
    r = client.get("/analytics/coverage/courtyards", headers=test_db.headers("dispatcher"))
    assert r.status_code == 200, r.text
    covered = {f["properties"]["code"]: f["properties"]["covered"] for f in r.json()["features"]}
    with engine.connect() as conn:
        three_nos = dict(conn.execute(text("SELECT code, is_three_nos FROM courtyards")).all())
        inner = conn.execute(
            text(
                "SELECT count(*) FROM cameras k JOIN courtyards y ON y.id = k.courtyard_id"
                " WHERE y.is_three_nos AND k.range_m > 30"
            )
        ).scalar_one()
    assert set(covered) == set(three_nos)
    managed = [covered[c] for c, flag in three_nos.items() if not flag]
    unmanaged = [covered[c] for c, flag in three_nos.items() if flag]
    assert unmanaged and managed
    share_managed = sum(managed) / len(managed)
    share_unmanaged = sum(unmanaged) / len(unmanaged)
    assert 0.05 <= share_managed <= 0.6, share_managed  # some, not all
    assert share_unmanaged < share_managed
    assert inner == 0  # nobody installs inner cameras in a 三无院落
    summary = client.get("/analytics/coverage", headers=test_db.headers("dispatcher")).json()
    assert summary["summary"]["targets"]["courtyard"]["covered"] == sum(covered.values()) > 0
