"""The demo district in the real database: the seed's numbers, exact nesting, valid geometry."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from layers.core.errors import ConflictError
from layers.demo.counts import counts_for
from layers.demo.load import DemoOptions, load_demo
from layers.tables.grid_cells import live
from tests.conftest import TEST_NOW, TEST_SCALE, DemoDatabase
from tests.layers.demo_checks import (
    assert_counts,
    assert_nesting,
    assert_sums_up,
    assert_valid_geometry,
    quiet,
)


def test_counts_are_proportional_at_small_scale(engine: Engine) -> None:
    assert_counts(engine, counts_for(TEST_SCALE))


def test_grid_nests_exactly(engine: Engine) -> None:
    assert_nesting(engine)


def test_geometries_valid_and_in_wgs84(engine: Engine) -> None:
    assert_valid_geometry(engine)


def test_households_and_population_sum_up_the_hierarchy(engine: Engine) -> None:
    assert_sums_up(engine, counts_for(TEST_SCALE))


def test_codes_follow_the_published_shape(engine: Engine) -> None:
    with engine.connect() as conn:
        bad = conn.execute(
            text(
                "SELECT count(*) FROM grid_cells c JOIN grid_cells p ON p.id = c.parent_id "
                "WHERE left(c.code, length(p.code)) <> p.code"
            )
        ).scalar()
        assert bad == 0
        bad_l1 = conn.execute(
            text(
                "SELECT count(*) FROM grid_cells c JOIN communities m ON m.id = c.community_id "
                "WHERE c.level = 1 AND left(c.code, 12) <> m.code"
            )
        ).scalar()
        assert bad_l1 == 0
        assert conn.execute(
            text("SELECT bool_and(code ~ '^510108[0-9]{3}$') FROM streets")
        ).scalar()
        assert conn.execute(
            text("SELECT bool_and(device_id ~ '^51010[0-9]{15}$') FROM cameras")
        ).scalar()
        levels = dict(
            conn.execute(text("SELECT level, count(*) FROM cameras GROUP BY level")).all()
        )
        assert set(levels) == {"district", "street", "community", "courtyard"}


def test_chinese_names_are_stored_as_utf8(engine: Engine) -> None:
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM streets")).scalars())
        assert {"猛追湾街道", "建设路街道", "龙潭街道"} <= names
        assert conn.execute(text("SHOW server_encoding")).scalar() == "UTF8"


def test_courtyards_are_never_split_by_the_grid(engine: Engine) -> None:
    with engine.connect() as conn:
        split = conn.execute(
            text(
                "SELECT count(*) FROM courtyards y WHERE NOT EXISTS ("
                f" SELECT 1 FROM grid_cells c WHERE c.level = 2 AND {live('c')}"
                " AND ST_Covers(c.geom, y.geom))"
            )
        ).scalar()
        assert split == 0
        three_nos = conn.execute(
            text("SELECT count(*) FILTER (WHERE is_three_nos), count(*) FROM courtyards")
        ).one()
        assert 0 < three_nos[0] < three_nos[1]


def test_every_cell_has_its_worker(engine: Engine) -> None:
    with engine.connect() as conn:
        orphans = conn.execute(
            text(
                f"SELECT count(*) FROM grid_cells c WHERE {live('c')} AND NOT EXISTS ("
                " SELECT 1 FROM workers w WHERE w.cell_code = c.code AND w.level = c.level)"
            )
        ).scalar()
        assert orphans == 0


def test_incidents_are_located_and_carry_their_trail(engine: Engine) -> None:
    with engine.connect() as conn:
        unlocated = conn.execute(
            text(
                "SELECT count(*) FROM incidents i JOIN grid_cells c ON c.id = i.l3_cell_id "
                "WHERE NOT ST_Covers(c.geom, i.geom)"
            )
        ).scalar()
        assert unlocated == 0
        span = conn.execute(text("SELECT min(created_at), max(created_at) FROM incidents")).one()
        assert span[1] <= TEST_NOW and (TEST_NOW - span[0]).days >= 300
        trails = conn.execute(
            text(
                "SELECT count(*) FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM incident_events e"
                " WHERE e.incident_id = i.id AND e.action = 'report')"
            )
        ).scalar()
        assert trails == 0
        last_status_mismatch = conn.execute(
            text(
                "SELECT count(*) FROM incidents i JOIN LATERAL (SELECT to_status FROM incident_events e"
                " WHERE e.incident_id = i.id AND e.to_status IS NOT NULL AND e.action <> 'escalate'"
                " ORDER BY e.at DESC, e.id DESC LIMIT 1) last ON true WHERE last.to_status <> i.status"
            )
        ).scalar()
        assert last_status_mismatch == 0


def test_refuses_to_load_twice_and_changes_nothing(
    test_db: DemoDatabase, engine: Engine, tmp_path: Path
) -> None:
    from layers.store.db import make_sessionmaker

    before = _fingerprint(engine)
    with make_sessionmaker(engine)() as session, pytest.raises(ConflictError) as err:
        load_demo(
            session=session,
            options=DemoOptions(seed=1, scale=0.02),
            keys_path=tmp_path / "k.json",
            report=quiet(),
        )
    assert err.value.code == "demo_already_loaded"
    assert _fingerprint(engine) == before
    assert not (tmp_path / "k.json").exists()


def test_failed_replace_leaves_everything_as_it_was(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers.demo import load as load_module
    from layers.store.db import make_sessionmaker

    def exploding_write(conn, demo, report):  # the old rows are deleted by now
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(load_module, "write_demo", exploding_write)
    before = _fingerprint(engine)
    with make_sessionmaker(engine)() as session, pytest.raises(RuntimeError):
        load_demo(
            session=session,
            options=DemoOptions(seed=1, scale=0.02, replace=True),
            keys_path=tmp_path / "k.json",
            report=quiet(),
        )
    assert _fingerprint(engine) == before
    assert not (tmp_path / "k.json").exists()


def test_replace_loads_afresh_and_writes_private_keys(engine: Engine, tmp_path: Path) -> None:
    from layers.store.db import make_sessionmaker

    keys_file = tmp_path / "demo-keys.json"
    with make_sessionmaker(engine)() as session:
        written = load_demo(
            session=session,
            options=DemoOptions(seed=3, scale=0.02, now=TEST_NOW, replace=True),
            keys_path=keys_file,
            report=quiet(),
        )
    assert written["grid_cells"] == sum(getattr(counts_for(0.02), k) for k in ("l1", "l2", "l3"))
    keys = json.loads(keys_file.read_text())
    assert set(keys) == {"planner", "dispatcher", "grid_worker", "admin", "department"}
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    with engine.connect() as conn:
        roles = dict(
            conn.execute(
                text("SELECT role, count(*) FROM api_keys WHERE name LIKE 'demo:%' GROUP BY role")
            ).all()
        )
        assert roles == {
            "planner": 1,
            "dispatcher": 1,
            "grid_worker": 1,
            "admin": 1,
            "department": 1,
        }
        staffed = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM platform_staff), (SELECT count(*) FROM "
                "department_staff), (SELECT count(*) FROM incidents WHERE unit_id IS NULL)"
            )
        ).one()
        assert tuple(staffed) == (1, 1, 0)  # the district dispatcher, 城管局; every case placed
        audit = conn.execute(
            text("SELECT data->>'seed' FROM audit_log WHERE action = 'demo_load' ORDER BY id DESC")
        ).scalar()
        assert audit == "3"


def _fingerprint(engine: Engine) -> tuple:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM grid_cells), (SELECT count(*) FROM incidents),"
                    " (SELECT count(*) FROM api_keys), (SELECT md5(string_agg(code, ',' ORDER BY id))"
                    " FROM grid_cells), (SELECT max(id) FROM incident_events)"
                )
            ).one()
        )


def test_areas_tile_exactly_where_postgis_computes(engine: Engine) -> None:
    """No overlap between communities, nor between level-1 cells of different communities.

    Measured in the stored CRS (intersection in EPSG:4326, geodesic area), where
    locate and every spatial query work: a sliver there puts a point in two units.
    """
    with engine.connect() as conn:
        for label, sql in (
            (
                "communities",
                "SELECT a.geom AS ga, b.geom AS gb FROM communities a"
                " JOIN communities b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)",
            ),
            (
                "level-1 cells",
                "SELECT a.geom AS ga, b.geom AS gb FROM grid_cells a"
                " JOIN grid_cells b ON a.id < b.id AND a.level = 1 AND b.level = 1"
                " AND a.community_id <> b.community_id AND ST_Intersects(a.geom, b.geom)"
                f" WHERE {live('a')} AND {live('b')}",
            ),
        ):
            pairs, area, metric = conn.execute(
                text(
                    "SELECT count(*), coalesce(sum(ST_Area(ST_Intersection(ga, gb)::geography)), 0),"
                    " coalesce(sum(ST_Area(ST_Intersection(ST_Transform(ga, 32648),"
                    f" ST_Transform(gb, 32648)))), 0) FROM ({sql}) p"
                )
            ).one()
            assert pairs > 0, label  # neighbours do touch
            assert area < 1e-6 and metric < 1e-6, (label, area, metric)
