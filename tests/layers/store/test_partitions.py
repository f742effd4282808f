"""Monthly partitions of the cases: the conversion keeps every row, plans prune, months move.

Against the real database: migration 0032 down and up again on a copy of the
demo, EXPLAIN of the current month's query, the maintenance commands, and a
history import that arrives by ATTACH.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from geo_api.cli import app as cli
from geo_api.migrate import alembic_config, upgrade
from grids.cases import import_months
from layers.store.month_loads import attach_month

CHECKSUMS = {
    "incidents": "id, created_at, external_id, status, l3_cell_id, deadlines, geom",
    "incident_events": "id, incident_id, at, action, to_status, data",
    "case_ratings": "incident_id, score",
    "case_transfers": "id, incident_id, status",
    "idempotency_keys": "key, incident_id",
    "platform_notices": "id, incident_id, kind",
}
"""Per table, the columns whose md5 over all rows (in id order) must survive."""


def _fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    out = {}
    with engine.connect() as conn:
        for table, cols in CHECKSUMS.items():
            row = conn.execute(
                text(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text),''))"
                    f" FROM (SELECT {cols} FROM {table}) t"
                )
            ).one()
            out[table] = (row[0], row[1])
    return out


def _partition_rows(engine: Engine) -> dict[str, int]:
    """Rows in each partition of `incidents`, the empty ones included."""
    with engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'incidents'::regclass"
            )
        ).scalars()
        return {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in list(names)
        }


def test_the_conversion_keeps_every_row_both_ways(test_db, engine):
    before = _fingerprint(engine)
    assert before["incidents"][0] > 1000 and before["incident_events"][0] > 10_000
    config = alembic_config(test_db.url)
    command.downgrade(config, "0031_layer_changes")
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'incidents'"))
        assert kind.scalar_one() == "r"  # a plain table again
    assert _fingerprint(engine) == before
    upgrade(test_db.url)
    assert _fingerprint(engine) == before
    parts = _partition_rows(engine)
    assert parts["incidents_default"] == 0  # every case in the partition of its month
    assert sum(parts.values()) == before["incidents"][0]
    assert len([n for n, c in parts.items() if c]) >= 10  # the demo's year of history


def test_a_query_of_this_month_reads_one_partition(engine):
    with engine.connect() as conn:
        plan = "\n".join(
            conn.execute(
                text(
                    "EXPLAIN SELECT count(*) FROM incidents WHERE created_at >= '2026-10-01'"
                    " AND created_at < '2026-11-01' AND status = 'dispatched'"
                )
            ).scalars()
        )
    scanned = set(re.findall(r" on (incidents_\w+) incidents", plan))
    assert scanned == {"incidents_p202610"}, plan  # not the other months, not the default


def test_an_external_id_is_unique_across_months(engine):
    with engine.connect() as conn:
        old = conn.execute(
            text(
                "SELECT external_id, created_at FROM incidents WHERE external_id IS NOT NULL"
                " ORDER BY created_at LIMIT 1"
            )
        ).one()
        columns = (
            "category_code, channel_code, status, urgency, description, geom, reported_crs,"
            " reported_lon, reported_lat, handling_level, created_at, updated_at"
        )
        with pytest.raises(IntegrityError, match="uq_incident_keys_external_id"):
            conn.execute(
                text(
                    f"INSERT INTO incidents (external_id, {columns})"
                    f" SELECT :e, {columns.replace('created_at, updated_at', '')}"
                    " created_at + interval '200 days', updated_at FROM incidents"
                    " WHERE external_id = :e"
                ),
                {"e": old.external_id},
            )
        conn.rollback()


def _cli(monkeypatch, url: str, *args: str):
    monkeypatch.setenv("WANGGE_DATABASE_URL", url)
    return CliRunner().invoke(cli, ["db", "partitions", *args])


def test_create_ahead_moves_stray_rows_and_detach_exports(test_db, engine, monkeypatch, tmp_path):
    with engine.begin() as conn:  # a case of a month without a partition lands in DEFAULT
        conn.execute(
            text(
                "UPDATE incidents SET created_at = '2031-05-03 10:00+00'"
                " WHERE id = (SELECT min(id) FROM incidents)"
            )
        )
        assert conn.execute(text("SELECT count(*) FROM incidents_default")).scalar_one() == 1
    made = _cli(monkeypatch, test_db.url, "create-ahead", "--from", "2031-05", "--months", "2")
    assert made.exit_code == 0, made.output
    assert "incidents_p203105" in made.output and "incident_events_p203107" in made.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents_default")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM incidents_p203105")).scalar_one() == 1
    listed = _cli(monkeypatch, test_db.url, "list")
    assert "incidents_p203106" in listed.output and "default" in listed.output
    bad = _cli(monkeypatch, test_db.url, "detach", "--before", "May 2026")
    assert bad.exit_code == 2 and "expected YYYY-MM" in bad.output
    with engine.connect() as conn:
        oldest = conn.execute(text("SELECT min(created_at) FROM incidents")).scalar_one()
        cases = conn.execute(
            text(
                "SELECT count(*) FROM incidents WHERE created_at < date_trunc('month', :o)"
                " + interval '1 month'"
            ),
            {"o": oldest},
        ).scalar_one()
    with engine.begin() as conn:  # an open case in the month that goes: it stops counting
        reopened = conn.execute(
            text(
                "UPDATE incidents SET status = 'parked' WHERE id = (SELECT id FROM incidents"
                " WHERE created_at = :o LIMIT 1) RETURNING id"
            ),
            {"o": oldest},
        ).scalar_one()
    month = f"{oldest.year + oldest.month // 12}-{oldest.month % 12 + 1:02d}"
    out = _cli(monkeypatch, test_db.url, "detach", "--before", month, "--export", str(tmp_path))
    assert out.exit_code == 0, out.output
    name = f"incidents_p{oldest:%Y%m}"
    dump = tmp_path / f"{name}.dump"
    assert dump.stat().st_size > 0 and cases > 0
    listing = subprocess.run(
        [str(_pg_restore()), "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    assert f"TABLE DATA public {name}" in listing
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None
        left = conn.execute(
            text(
                "SELECT count(*) FROM incidents WHERE created_at < date_trunc('month', :o)"
                " + interval '1 month'"
            ),
            {"o": oldest},
        ).scalar_one()
        key_open = conn.execute(
            text("SELECT open FROM incident_keys WHERE id = :i"), {"i": reopened}
        ).scalar_one()
    assert left == 0
    assert key_open is False  # the key stays (ids are never reused), no longer open


def _pg_restore() -> Path:
    from layers.store.pg_binaries import find_pg_binaries

    return find_pg_binaries(None).client("pg_restore")


def test_history_of_new_months_is_attached_whole(test_db, engine, monkeypatch, tmp_path):
    path = tmp_path / "old.csv"
    rows = [
        (f"OLD-{i:03d}", "0102", "hotline_12345", "closed", f"2019-{m:02d}-1{i % 9}T09:00:00+08:00")
        for i, m in enumerate([3, 3, 4, 4, 4, 7])
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["external_id", "category", "channel", "status", "reported_at", "lon", "lat"]
        )
        for row in rows:
            writer.writerow([*row, "104.1", "30.68"])
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    result = CliRunner().invoke(cli, ["incidents", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "6 imported" in result.output
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                text(
                    "SELECT tableoid::regclass::text, count(*) FROM incidents"
                    " WHERE external_id LIKE 'OLD-%' GROUP BY 1"
                )
            ).all()
        )
        assert counts == {"incidents_p201903": 2, "incidents_p201904": 3, "incidents_p201907": 1}
        events = conn.execute(
            text(
                "SELECT e.tableoid::regclass::text, count(*) FROM incident_events e"
                " JOIN incident_keys k ON k.id = e.incident_id"
                " WHERE k.external_id LIKE 'OLD-%' AND e.action = 'import' GROUP BY 1"
            )
        ).all()
        assert dict(events) == {
            "incident_events_p201903": 2,
            "incident_events_p201904": 3,
            "incident_events_p201907": 1,
        }
        indexes = conn.execute(
            text("SELECT count(*) FROM pg_indexes WHERE tablename = 'incidents_p201904'")
        ).scalar_one()
        parent = conn.execute(
            text("SELECT count(*) FROM pg_indexes WHERE tablename = 'incidents_p202610'")
        ).scalar_one()
        assert indexes == parent  # the same indexes as a partition the migration made
    again = CliRunner().invoke(cli, ["incidents", "import", str(path)])
    assert "0 imported, 6 already there" in again.output


def test_a_failed_history_import_leaves_no_month_behind(test_db, engine, monkeypatch, tmp_path):
    path = tmp_path / "late.csv"
    path.write_text(
        "external_id,category,reported_at,lon,lat\n"
        "NEW-1,0102,2018-02-01T09:00:00+08:00,104.1,30.68\n"
        "NEW-2,0102,2018-03-01T09:00:00+08:00,104.1,30.68\n",
        encoding="utf-8",
    )
    attached = []

    def attach_then_fail(conn, part):
        if attached:
            raise RuntimeError("the disk filled up")  # the last step of the import fails
        attach_month(conn, part)
        attached.append(part.name)

    monkeypatch.setattr(import_months, "attach_month", attach_then_fail)
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    before = _fingerprint(engine)
    result = CliRunner().invoke(cli, ["incidents", "import", str(path)])
    assert result.exit_code != 0 and attached == ["incidents_p201802"]
    with engine.connect() as conn:
        for name in ("incidents_p201802", "incidents_p201803", "incident_events_p201802"):
            assert conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None
        keys = conn.execute(
            text("SELECT count(*) FROM incident_keys WHERE external_id LIKE 'NEW-%'")
        )
        assert keys.scalar_one() == 0
    assert _fingerprint(engine) == before
