"""`demo load`: generate the demo district and write it atomically, with demo keys.

One transaction: a failure anywhere (or Ctrl-C) leaves the database as it was.
The keys file is written to a temporary name first and moved into place only
after the commit, so it never holds keys the database does not know.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.core.errors import ConflictError
from layers.core.roles import Role
from layers.demo.build import Progress, build_demo
from layers.demo.cases import CategoryInfo
from layers.demo.self_governance import write_self_governance
from layers.demo.service_catalog import write_catalogue
from layers.demo.writer import write_demo
from layers.store.sql import quote_ident
from layers.tables.api_keys import create_key
from layers.tables.audit import record

DEMO_ROLES = (Role.PLANNER, Role.DISPATCHER, Role.GRID_WORKER, Role.ADMIN, Role.DEPARTMENT)
"""One demo key per staff role (`STAFF`), in the order they are printed."""
DEMO_KEY_PREFIX = "demo:"
# Children before parents, so plain DELETEs never trip a foreign key.  The derived
# layers go first: they were computed from the district being replaced.
DEMO_DEPARTMENT = "cgj"
"""The demo department key's department (城管局); the demo dispatcher is at the district centre."""
DEMO_TABLES = (
    "courtyard_shifts",
    "courtyard_members",
    "enterprise_offers",
    "social_organisation_courtyards",
    "social_organisation_communities",
    "social_organisations",
    "courtyard_groups",
    "service_outbox",
    "proxy_events",
    "proxy_requests",
    "appointments",
    "appointment_slots",
    "service_offers",
    "derived_cache",
    "joint_task_members",
    "joint_tasks",
    "liaison_shifts",
    "case_transfers",
    "platform_notices",
    "platform_staff",
    "camera_views",
    "incident_events",
    "incidents",
    "platform_units",
    "workers",
    "service_points",
    "cameras",
    "person_links",
    "base_provenance",
    "base_imports",
    "persons",
    "dwellings",
    "units",
    "addresses",
    "road_aliases",
    "buildings",
    "courtyards",
    "grid_cells",
    "grid_revisions",
    "communities",
    "streets",
    "districts",
)
CLOCK_MINUTES = {
    "continuous": 1,
    "working_hours": 1,
    "working_days": 8 * 60,
    "calendar_days": 24 * 60,
}


@dataclass(frozen=True)
class DemoOptions:
    """How to build the demo: seed, scale, the moment it ends, replace or refuse."""

    seed: int = 2017
    scale: float = 1.0
    now: datetime | None = None
    replace: bool = False


def is_loaded(conn: Connection) -> bool:
    """True when a district is already in the database."""
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM districts)")).scalar())


def demo_categories(conn: Connection) -> list[CategoryInfo]:
    """The categories with their default handling limits, as the case generators need them."""
    rows = conn.execute(
        text(
            "SELECT c.code, c.name, c.default_urgency, t.amount, t.clock FROM categories c "
            "JOIN time_limits t ON t.category_code = c.code "
            "AND t.urgency = c.default_urgency AND t.step = 'handle' ORDER BY c.code"
        )
    ).all()
    if not rows:
        raise ConflictError("no categories found: run `wangge migrate` first", code="no_categories")
    limits: dict[str, dict[tuple[str, str], tuple[float, str]]] = {}
    for t in conn.execute(
        text("SELECT category_code, urgency, step, amount, clock FROM time_limits")
    ):
        limits.setdefault(t.category_code, {})[(t.urgency, t.step)] = (float(t.amount), t.clock)
    return [
        CategoryInfo(
            r.code,
            r.name,
            r.default_urgency,
            float(r.amount) * CLOCK_MINUTES[r.clock],
            limits.get(r.code, {}),
        )
        for r in rows
    ]


def clear_demo(conn: Connection) -> None:
    """Delete every demo row (and the demo keys), children first."""
    conn.execute(text("DELETE FROM api_keys WHERE name LIKE :p"), {"p": DEMO_KEY_PREFIX + "%"})
    conn.execute(text("UPDATE api_keys SET worker_id = NULL WHERE worker_id IS NOT NULL"))
    for table in DEMO_TABLES:
        conn.execute(text(f"DELETE FROM {quote_ident(table)}"))  # noqa: S608 - quoted


def load_demo(
    *, session: Session, options: DemoOptions, keys_path: Path, report: Progress
) -> dict[str, int]:
    """Load the demo district into the session's transaction and commit; write the keys file."""
    conn = session.connection()
    if is_loaded(conn):
        if not options.replace:
            raise ConflictError(
                "the demo district is already loaded; use --replace to load it afresh",
                code="demo_already_loaded",
            )
        report("replacing the loaded district (in the same transaction)")
        clear_demo(conn)
    now = (options.now or datetime.now(UTC)).astimezone(UTC)
    demo = build_demo(
        scale=options.scale,
        seed=options.seed,
        now=now,
        categories=demo_categories(conn),
        report=report,
    )
    written = write_demo(conn, demo, report)
    written.update(write_self_governance(conn, seed=options.seed, now=now))
    report("wrote courtyard self-governance, social organisations and offers")
    written |= write_catalogue(conn)
    commit_with_keys(
        session=session,
        keys_path=keys_path,
        report=report,
        entity_id="510108",
        data={
            "seed": options.seed,
            "scale": options.scale,
            "now": now.isoformat(),
            "rows": written,
        },
    )
    return written


def commit_with_keys(
    *, session: Session, keys_path: Path, report: Progress, entity_id: str, data: dict
) -> None:
    """Create the demo keys, audit the load, commit, move the keys file in place, ANALYZE."""
    conn = session.connection()
    keys: dict[str, str] = {}
    for role in DEMO_ROLES:
        worker_id = 1 if role == Role.GRID_WORKER else None  # the first level-1 worker
        keys[role] = create_key(
            session=session, role=role, name=f"{DEMO_KEY_PREFIX}{role}", worker_id=worker_id
        )
    _link_demo_keys(conn)
    record(
        session=session,
        actor="wangge demo load",
        role=Role.ADMIN,
        action="demo_load",
        entity="districts",
        entity_id=entity_id,
        data=data,
    )
    tmp = _write_keys_tmp(keys_path, keys)
    try:
        session.commit()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(keys_path)
    for table in DEMO_TABLES:
        session.execute(text(f'ANALYZE "{table}"'))
    session.commit()
    report(f"committed; demo keys in {keys_path}")


def _link_demo_keys(conn: Connection) -> None:
    """The demo dispatcher works at the district centre, the demo department key for 城管局."""
    conn.execute(
        text(
            "INSERT INTO platform_staff (unit_id, key_id, duty) SELECT u.id, k.id, 'dispatcher' "
            "FROM platform_units u, api_keys k WHERE u.level = 'district' AND k.name = :n"
        ),
        {"n": f"{DEMO_KEY_PREFIX}{Role.DISPATCHER}"},
    )
    conn.execute(
        text(
            "INSERT INTO department_staff (key_id, department_id) SELECT k.id, d.id "
            "FROM api_keys k, departments d WHERE k.name = :n AND d.code = :d"
        ),
        {"n": f"{DEMO_KEY_PREFIX}{Role.DEPARTMENT}", "d": DEMO_DEPARTMENT},
    )


def _write_keys_tmp(path: Path, keys: Mapping[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh, indent=2)
        fh.write("\n")
    return tmp
