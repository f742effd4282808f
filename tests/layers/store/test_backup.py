"""`wangge backup` and `wangge restore`: every row, the keys and the derived layers come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from geo_api.app import create_app
from geo_api.cli import app as cli
from geo_api.settings import Settings
from layers.core.errors import BackupError, ConflictError, InvalidInputError
from layers.store.backup import user_relations
from layers.store.settings import DatabaseSettings
from layers.store.sql import quote_ident
from tests.conftest import TEST_CLOCK

STAFF = ("planner", "dispatcher", "grid_worker", "admin")


def run(url: str, *args: str):
    """The real CLI in this process, on the database at `url` (as its owner)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANGGE_DATABASE_URL", url)
        return CliRunner().invoke(cli, list(args))


def row_counts(url: str) -> dict[str, int]:
    """Exact row count of every table of the schema."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars()
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {quote_ident(t)}")).scalar_one()
                for t in tables
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def archive(client, test_db, tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """A backup of this module's demo database, with derived layers computed first."""
    assert (
        client.get("/analytics/coverage", headers=test_db.headers("dispatcher")).status_code == 200
    )
    path = tmp_path_factory.mktemp("backup") / "wangge.dump"
    result = run(test_db.url, "backup", str(path))
    assert result.exit_code == 0, result.output
    assert "dumping incidents_p" in result.output  # progress, table by table (a month each)
    counts = row_counts(test_db.url)
    assert counts["derived_cache"] > 0 and counts["camera_views"] > 0
    return path, counts


def test_a_restore_into_a_fresh_database_brings_back_everything(
    archive, empty_db: str, test_db
) -> None:
    path, expected = archive
    result = run(empty_db, "restore", str(path))
    assert result.exit_code == 0, result.output
    assert "restoring incidents_p" in result.output  # a month at a time
    assert row_counts(empty_db) == expected  # every row of every table
    with TestClient(
        create_app(Settings(db=DatabaseSettings(database_url=empty_db)), clock=TEST_CLOCK)
    ) as client:
        for role in STAFF:  # the keys still authenticate, as the server's role reads them
            assert client.get("/", headers=test_db.headers(role)).status_code == 200, role
        queue = client.get("/dispatch/queue", headers=test_db.headers("dispatcher"))
        assert queue.status_code == 200
        coverage = client.get("/analytics/coverage", headers=test_db.headers("dispatcher"))
        assert coverage.status_code == 200
    assert row_counts(empty_db)["derived_cache"] == expected["derived_cache"]  # cache was used


def test_a_database_that_holds_anything_is_refused_without_replace(archive, empty_db) -> None:
    path, expected = archive
    assert run(empty_db, "restore", str(path)).exit_code == 0
    engine = create_engine(empty_db, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM incident_events WHERE id % 2 = 0"))
    engine.dispose()
    changed = row_counts(empty_db)
    refused = run(empty_db, "restore", str(path))
    assert isinstance(refused.exception, ConflictError)
    assert refused.exception.code == "database_not_empty" and refused.exception.status_code < 500
    assert "--replace" in refused.exception.message
    assert row_counts(empty_db) == changed  # nothing written

    replaced = run(empty_db, "restore", "--replace", str(path))
    assert replaced.exit_code == 0, replaced.output
    assert "replaced the database" in replaced.output
    assert row_counts(empty_db) == expected


def test_a_truncated_archive_leaves_the_database_as_it_was(archive, empty_db, tmp_path) -> None:
    path, _ = archive
    cut = tmp_path / "cut.dump"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    failed = run(empty_db, "restore", str(cut))
    assert isinstance(failed.exception, BackupError), failed.output
    assert failed.exception.code == "restore_failed"
    assert user_relations(empty_db) == 0  # not one table left behind


def test_what_is_not_an_archive_is_refused(empty_db, tmp_path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    failed = run(empty_db, "restore", str(junk))
    assert isinstance(failed.exception, InvalidInputError)
    assert failed.exception.code == "not_a_backup"


def test_help_says_what_is_in_a_backup_and_how_restore_behaves() -> None:
    backup_help = CliRunner().invoke(cli, ["backup", "--help"]).output
    assert "custom format" in backup_help and "API keys" in backup_help
    restore_help = CliRunner().invoke(cli, ["restore", "--help"]).output
    assert "--replace" in restore_help and "one transaction" in restore_help
