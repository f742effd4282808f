"""`demo load --city`: a city of N districts and Y years of cases, in one transaction.

Districts are generated in worker processes (each is independent and seeded
by its index, so the result does not depend on how many workers ran) and
written in index order by this process while the others are still being
generated.  The bulk tables' secondary indexes and foreign keys are set
aside during the load and built (validated) once at the end: 1.5 M cases
would otherwise pay a dozen index insertions and ten key lookups each.
Not written for the city (the single-district demo has them): base records
(persons, dwellings), self-governance and the service catalogue's offers.
Like the single-district demo: a failure leaves the database as it was, and
the demo keys file appears only after the commit.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import ConflictError
from layers.demo.build import DemoDistrict, Progress
from layers.demo.city_build import DistrictJob, build_district
from layers.demo.city_outlines import city_districts
from layers.demo.city_write import write_district
from layers.demo.load import clear_demo, commit_with_keys, demo_categories, is_loaded
from layers.demo.writer import TABLES, write_first_revision
from layers.store.copy import reset_sequence
from layers.store.partitions import ensure_months_if_owner
from layers.store.table_constraints import restore_foreign_keys, set_aside_foreign_keys
from layers.store.table_indexes import rebuild_indexes, set_aside_indexes
from layers.tables.platform_units import BUILD_UNITS_SQL

BULK_TABLES = ("incidents", "grid_cells", "buildings", "workers", "cameras")
"""The tables with most rows: their indexes and foreign keys wait for the end of the load."""
PLACE_TRIGGER = "incidents_place_in_unit"
"""Looks up a case's platform unit per row; during the load there are none (they are
cleared and built from the areas at the end), so it could only write NULL: off until then."""


@dataclass(frozen=True)
class CityOptions:
    """How to build the city: districts, years of cases, size, seed, end of history."""

    districts: int = 20
    years: int = 3
    scale: float = 1.0
    seed: int = 2017
    now: datetime | None = None
    replace: bool = False
    workers: int = 2
    """Generator processes; 1 generates in this process (quickest for a tiny city)."""


def _generated(jobs: list[DistrictJob], workers: int) -> Iterator[tuple[DemoDistrict, float]]:
    """The districts in index order, generated `workers` at a time."""
    if workers <= 1:
        yield from map(build_district, jobs)
        return
    # forkserver: a fresh child, not a fork of this process and its database socket
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(build_district, jobs)


def _set_aside(session: Session) -> tuple[list[str], dict[str, list[tuple[str, str]]]]:
    """Drop the bulk tables' secondary indexes and foreign keys, stop the place trigger."""
    indexes = [i for t in BULK_TABLES for i in set_aside_indexes(session=session, table=t)]
    keys = {t: set_aside_foreign_keys(session=session, table=t) for t in BULK_TABLES}
    session.execute(text(f"ALTER TABLE incidents DISABLE TRIGGER {PLACE_TRIGGER}"))
    return indexes, keys


def _restore(session: Session, indexes: list[str], keys: dict[str, list[tuple[str, str]]]) -> None:
    """Undo `_set_aside`: the trigger on, every key validated, every index built."""
    session.execute(text(f"ALTER TABLE incidents ENABLE TRIGGER {PLACE_TRIGGER}"))
    for table, table_keys in keys.items():
        restore_foreign_keys(session=session, table=table, keys=table_keys)
    rebuild_indexes(session=session, definitions=indexes)


def load_city(
    *, session: Session, options: CityOptions, keys_path: Path, report: Progress
) -> dict[str, int]:
    """Generate and write the city, commit, write the demo keys; rows per table."""
    conn = session.connection()
    if is_loaded(conn):
        if not options.replace:
            raise ConflictError(
                "a demo is already loaded; use --replace to load the city instead",
                code="demo_already_loaded",
            )
        report("replacing the loaded districts (in the same transaction)")
        clear_demo(conn)
    now = (options.now or datetime.now(UTC)).astimezone(UTC)
    categories = demo_categories(conn)
    districts = city_districts(options.districts)
    report(f"{len(districts)} district outlines ({sum(d.real for d in districts)} real)")
    jobs = [
        DistrictJob(i, d, options.scale, options.seed, options.years, now, categories)
        for i, d in enumerate(districts)
    ]
    valid_from = now - timedelta(days=365 * options.years + 30)
    write_first_revision(conn, valid_from)
    ensure_months_if_owner(session.connection(), valid_from, now)  # not into DEFAULT partitions
    aside = _set_aside(session)
    written: dict[str, int] = {}
    for k, (demo, seconds) in enumerate(_generated(jobs, options.workers), 1):
        started = time.perf_counter()
        rows = write_district(conn, demo, written, valid_from)
        for table, n in rows.items():
            written[table] = written.get(table, 0) + n
        report(
            f"district {k}/{len(jobs)} {demo.code} {demo.name}: {len(demo.hierarchy.cells[3]):,}"
            f" level-3 cells, {rows['incidents']:,} cases (generated in {seconds:.1f} s,"
            f" written in {time.perf_counter() - started:.1f} s)"
        )
    report("validating the foreign keys and building the indexes")
    _restore(session, *aside)
    for sql in BUILD_UNITS_SQL:
        conn.execute(text(sql))
    written["platform_units"] = int(
        conn.execute(text("SELECT count(*) FROM platform_units")).scalar() or 0
    )
    for table in TABLES:
        reset_sequence(conn, table)
    commit_with_keys(
        session=session,
        keys_path=keys_path,
        report=report,
        entity_id="city",
        data={
            "districts": options.districts,
            "years": options.years,
            "seed": options.seed,
            "scale": options.scale,
            "now": now.isoformat(),
            "rows": written,
        },
    )
    return written
