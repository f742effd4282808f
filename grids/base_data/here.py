"""The handheld's "records here": the addresses, dwellings, residents and units near a grid
worker's position, in the worker's own cell only, masked, the read audited with its purpose.

"In the cell" is the one locate rule at the worker's level (`grids.base_data.scope`),
as for field collection, so what the view lists is exactly what the worker may change
from it (`POST /base/changes`).  Residents come with the masked ID number and phone
only (the database has nothing else); a unit's contact phone is masked here.  One
audit entry per answer that names persons or contacts: who, which records, why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.scope import point_in_cell, worker_cell
from layers.core.errors import InvalidInputError
from layers.tables.audit import record
from layers.tables.personal_data import id_ranges, mask_phone

HERE_READ = "personal_data.read"
MAX_ADDRESSES = 30
"""The nearest entrances looked at (a building's entrances, a courtyard's at most)."""

_NEAR = text(
    "SELECT a.id, a.full_text, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,"
    " ST_Distance(a.geom::geography, p::geography) AS d"
    " FROM addresses a, ST_SetSRID(ST_MakePoint(:x, :y), 4326) p"
    " WHERE ST_DWithin(a.geom::geography, p::geography, :r) ORDER BY a.geom <-> p, a.id LIMIT :k"
)
_DWELLINGS = text(
    "SELECT w.id, w.address_id, w.room, w.floor, w.use, w.area_m2 FROM dwellings w"
    " WHERE w.address_id = ANY(:a) ORDER BY w.address_id, w.room, w.id"
)
_PERSONS = text(
    "SELECT p.id, p.dwelling_id, p.name, p.id_masked, p.phone_masked, p.residence_type,"
    " p.birth_year, p.flags FROM persons p WHERE p.dwelling_id = ANY(:w) ORDER BY p.id"
)
_LINKS = text(
    "SELECT l.dwelling_id, l.person_id, l.kind, p.name FROM person_links l"
    " JOIN persons p ON p.id = l.person_id WHERE l.dwelling_id = ANY(:w) ORDER BY l.id"
)
_UNITS = text(
    'SELECT u.id, u.address_id, u.name, u."class", u.status, u.is_key_place, u.licence_no,'
    " u.contact_name, u.contact_phone FROM units u WHERE u.address_id = ANY(:a) ORDER BY u.id"
)


@dataclass(frozen=True)
class Reader:
    """The grid worker reading: name and role for the audit, the worker behind the key."""

    role: str
    name: str
    worker_id: int | None


def _grouped(rows: Any, key: str) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append({k: v for k, v in r.items() if k != key})
    return out


def _in_cell(session: Session, reader: Reader, rows: list, tolerance_m: float | None) -> tuple:
    cell = worker_cell(session, reader.worker_id)
    return cell, [r for r in rows if point_in_cell(session, cell, r.lon, r.lat, tolerance_m)]


def records_here(
    *,
    session: Session,
    reader: Reader,
    lon: float,
    lat: float,
    radius_m: float,
    purpose: str,
    now: datetime,
    tolerance_m: float | None = None,
) -> dict[str, Any]:
    """The worker's own records within `radius_m` of (lon, lat), nearest entrance first."""
    if len(purpose.strip()) < 2:
        raise InvalidInputError("say why you look (purpose)", code="purpose_required")
    near = session.execute(_NEAR, {"x": lon, "y": lat, "r": radius_m, "k": MAX_ADDRESSES}).all()
    cell, mine = _in_cell(session, reader, list(near), tolerance_m)
    ids = [r.id for r in mine]
    dwellings = _grouped(session.execute(_DWELLINGS, {"a": ids}).mappings(), "address_id")
    flats = [w["id"] for ws in dwellings.values() for w in ws]
    persons = _grouped(session.execute(_PERSONS, {"w": flats}).mappings(), "dwelling_id")
    links = _grouped(session.execute(_LINKS, {"w": flats}).mappings(), "dwelling_id")
    units = _grouped(session.execute(_UNITS, {"a": ids}).mappings(), "address_id")
    for us in units.values():
        for u in us:
            u["contact_phone_masked"] = mask_phone(u.pop("contact_phone"))
    out = [
        {
            "address_id": r.id,
            "full_text": r.full_text,
            "distance_m": round(float(r.d), 1),
            "dwellings": [
                {**w, "residents": persons.get(w["id"], []), "links": links.get(w["id"], [])}
                for w in dwellings.get(r.id, [])
            ],
            "units": units.get(r.id, []),
        }
        for r in mine
    ]
    _audit(session, reader, purpose, now, ids, persons, units)
    return {"cell": {"level": cell[0], "code": cell[1]}, "radius_m": radius_m, "addresses": out}


def _audit(
    session: Session,
    reader: Reader,
    purpose: str,
    now: datetime,
    address_ids: list[int],
    persons: dict[int, list[dict[str, Any]]],
    units: dict[int, list[dict[str, Any]]],
) -> None:
    """One entry naming the persons and units shown (as id ranges) and the reader's purpose."""
    person_ids = [p["id"] for ps in persons.values() for p in ps]
    record(
        session=session,
        actor=reader.name,
        role=reader.role,
        action=HERE_READ,
        entity="persons",
        at=now,
        data={
            "face": "handheld_records_here",
            "purpose": purpose.strip(),
            "address_ids": id_ranges(address_ids),
            "id_ranges": id_ranges(person_ids),
            "unit_ids": id_ranges(u["id"] for us in units.values() for u in us),
            "fields": ["name", "id_masked", "phone_masked", "unit_contact_masked"],
        },
    )
