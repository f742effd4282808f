"""Migrations are the only way the schema comes to be: from empty, and back."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.exc import IntegrityError

from geo_api.migrate import alembic_config, current_heads, upgrade

CONTRACT_TABLES = {
    "districts",
    "streets",
    "communities",
    "grid_revisions",
    "grid_cells",
    "courtyards",
    "buildings",
    "cameras",
    "service_points",
    "workers",
    "channels",
    "categories",
    "incidents",
    "incident_events",
    "api_keys",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_the_contract(empty_db: str) -> None:
    assert not _tables(empty_db) & CONTRACT_TABLES
    upgrade(empty_db)
    assert CONTRACT_TABLES <= _tables(empty_db)
    script = ScriptDirectory.from_config(alembic_config(empty_db))
    assert current_heads(empty_db) == set(script.get_heads())
    engine = create_engine(empty_db, poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM channels")).scalar() == 17
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM categories c WHERE NOT EXISTS (SELECT 1 FROM time_limits t"
                    " WHERE t.category_code = c.code AND t.step = 'handle')"
                )
            ).scalar()
            == 0
        )
        geoms = dict(
            conn.execute(
                text(
                    "SELECT f_table_name, srid FROM geometry_columns WHERE f_geometry_column = 'geom'"
                )
            ).all()
        )
        assert set(geoms.values()) == {4326}
        gist = conn.execute(
            text("SELECT count(*) FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'")
        ).scalar()
        assert gist >= len(geoms)
    engine.dispose()


def test_downgrade_to_base_and_up_again(empty_db: str) -> None:
    from alembic import command

    upgrade(empty_db)
    command.downgrade(alembic_config(empty_db), "base")
    assert not _tables(empty_db) & CONTRACT_TABLES
    upgrade(empty_db)
    assert CONTRACT_TABLES <= _tables(empty_db)


def test_invalid_geometry_is_refused_by_the_schema(empty_db: str) -> None:
    upgrade(empty_db)
    engine = create_engine(empty_db, poolclass=pool.NullPool)
    bowtie = "SRID=4326;MULTIPOLYGON(((104 30,104.01 30.01,104.01 30,104 30.01,104 30)))"
    with engine.begin() as conn, pytest.raises(IntegrityError, match="ck_districts_geom_valid"):
        conn.execute(
            text("INSERT INTO districts (code, name, geom) VALUES ('999999', 'x', :g)"),
            {"g": bowtie},
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM districts")).scalar() == 0
    engine.dispose()
