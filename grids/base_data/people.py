"""Staff search of persons by name, ID number or phone: role-scoped, masked, audited with a purpose.

- grid workers see the persons living in their own cell (the address located by
  the one locate rule, at the worker's level) and nobody else;
- dispatchers and admins see the district;
- planners see no person at all (aggregates only: the cells' figures).

The ID number and phone are never shown in clear — the database has only
their keyed hashes and masked forms; a query by ID number or phone is hashed
before it is compared, and the audit entry names the query's kind, never its
text.  Every answer that names persons writes one audit entry with the
caller's `purpose` (PIPL: who read whose data, and why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.locate import locate_one
from layers.base_data.privacy import clean_id, clean_phone, keyed_hash
from layers.core.errors import ForbiddenError, InvalidInputError
from layers.core.roles import Role
from layers.tables.audit import record
from layers.tables.personal_data import id_ranges

PERSON_READ = "personal_data.read"
_SELECT = """
SELECT p.id, p.name, p.id_masked, p.sex, p.birth_year, p.phone_masked, p.residence_type,
  p.flags, a.id AS address_id, a.full_text, w.room, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat
FROM persons p LEFT JOIN dwellings w ON w.id = p.dwelling_id
LEFT JOIN addresses a ON a.id = w.address_id WHERE {where} ORDER BY p.id LIMIT :k
"""


@dataclass(frozen=True)
class Searcher:
    """Who searches: role, name for the audit, the worker behind a grid worker's key."""

    role: str
    name: str
    worker_id: int | None = None


def _condition(q: str) -> tuple[str, str, dict[str, Any]]:
    """The WHERE clause for `q`, the query's kind (audited instead of the text), parameters."""
    ident = clean_id(q)
    if re.fullmatch(r"\d{17}[\dX]", ident):
        return "p.id_hash = :h", "id_number", {"h": keyed_hash(ident)}
    phone = clean_phone(q)
    if len(phone) >= 7 and len(phone) == len(re.sub(r"[\s-]", "", q)):
        return "p.phone_hash = :h", "phone", {"h": keyed_hash(phone)}
    return "p.name = :n", "name", {"n": q.strip()}


def _worker_cell(session: Session, searcher: Searcher) -> tuple[int, str]:
    row = session.execute(
        text("SELECT level, cell_code FROM workers WHERE id = :w"), {"w": searcher.worker_id}
    ).first()
    if row is None:
        raise ForbiddenError("this key serves no grid cell", code="no_cell")
    return int(row.level), str(row.cell_code)


def search_people(
    *,
    session: Session,
    searcher: Searcher,
    q: str,
    purpose: str,
    now: datetime,
    limit: int = 20,
    tolerance_m: float | None = None,
) -> list[dict[str, Any]]:
    """The persons `q` names whom `searcher` may see, each with their address and grid cell."""
    if searcher.role == Role.PLANNER:
        raise ForbiddenError("planners see aggregates only", code="aggregates_only")
    if not q.strip() or len(purpose.strip()) < 2:
        raise InvalidInputError("send q and a purpose", code="purpose_required")
    where, kind, params = _condition(q)
    rows = session.execute(text(_SELECT.format(where=where)), {**params, "k": limit}).mappings()
    cell = _worker_cell(session, searcher) if searcher.role == Role.GRID_WORKER else None
    found = []
    for r in rows:
        code = None
        if r["lon"] is not None:
            loc = locate_one(session=session, lon=r["lon"], lat=r["lat"], tolerance_m=tolerance_m)
            code = loc.l3_code
            if cell is not None and getattr(loc, f"l{cell[0]}_code") != cell[1]:
                continue
        elif cell is not None:
            continue
        found.append({**{k: v for k, v in r.items() if k not in ("lon", "lat")}, "l3_code": code})
    if found:
        runs = id_ranges(p["id"] for p in found)
        record(
            session=session,
            actor=searcher.name,
            role=searcher.role,
            action=PERSON_READ,
            entity="persons",
            entity_id=found[0]["id"] if len(found) == 1 else None,
            at=now,
            data={
                "face": "base_persons_search",
                "purpose": purpose.strip(),
                "query_kind": kind,
                "id_ranges": runs,
                "fields": ["name", "id_masked", "phone_masked", "address"],
            },
        )
    return found
