"""Migration 0003 builds exactly the tables the models describe (no autogenerate diff)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers

from layers.store.partitions import is_partition
from layers.tables.models import Base


def _include(obj, name, type_, reflected, compare_to):
    """The models describe the partitioned parents; their monthly partitions are data."""
    table = getattr(obj, "table", obj) if type_ != "table" else obj
    if is_partition(name if type_ == "table" else getattr(table, "name", None)):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _include, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
