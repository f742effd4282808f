"""What each kind of field change reads, checks and writes (the rules behind `collection`).

`resolve_target` finds the record a change is about, its point (for the
worker's cell) and its facts before and after; `apply_change` writes them,
conditioned on the record still being as it was (`before`), so an approval
given after a department's import changed the record does not overwrite it.
A person's ID number arrives once, is checked (GB 11643) and hashed here; only
the hash and the masked form are kept, in the change as in the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.cell_figures import refresh_cells_at
from layers.base_data.figures import refresh_counts
from layers.base_data.privacy import clean_id, id_facts, id_problem, keyed_hash, mask_id
from layers.core.errors import InvalidInputError, NotFoundError, UnprocessableError
from layers.tables.dwellings import DWELLING_USES
from layers.tables.persons import RESIDENCE_TYPES
from layers.tables.units import KEY_PLACE_CLASSES, UNIT_CLASSES


@dataclass
class Target:
    """The record a change is about: table, id (None: made when applied), point, facts."""

    entity: str
    entity_id: int | None
    lon: float
    lat: float
    before: dict[str, Any]
    after: dict[str, Any]


_POINT = "ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat"


def _one(session: Session, sql: str, ident: int | None, what: str) -> Any:
    row = session.execute(text(sql), {"i": ident}).mappings().first() if ident else None
    if row is None:
        raise NotFoundError(f"no {what} {ident}", code=f"{what}_not_found")
    return row


def dwelling_point(session: Session, ident: int | None) -> Any:
    """A dwelling with its use and its entrance's point; 404 when there is none."""
    return _one(
        session,
        f"SELECT w.id, w.use, {_POINT} FROM dwellings w JOIN addresses a ON a.id = w.address_id"  # noqa: S608
        " WHERE w.id = :i",
        ident,
        "dwelling",
    )


def _word(data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in allowed:
        raise InvalidInputError(
            f"{key} must be one of {', '.join(allowed)}", code="unknown_value", field=key
        )
    return str(value)


def _dwelling_use(session: Session, ident: int | None, data: dict[str, Any]) -> Target:
    row = dwelling_point(session, ident)
    use = _word(data, "use", DWELLING_USES)
    if use == row["use"]:
        raise UnprocessableError(f"the flat is {use} already", code="nothing_changes")
    return Target("dwellings", row["id"], row["lon"], row["lat"], {"use": row["use"]}, {"use": use})


def _moved_out(session: Session, ident: int | None, data: dict[str, Any]) -> Target:
    row = _one(
        session,
        f"SELECT p.id, p.dwelling_id, {_POINT} FROM persons p"  # noqa: S608
        " JOIN dwellings w ON w.id = p.dwelling_id JOIN addresses a ON a.id = w.address_id"
        " WHERE p.id = :i",
        ident,
        "resident",
    )
    before = {"dwelling_id": row["dwelling_id"]}
    return Target("persons", row["id"], row["lon"], row["lat"], before, {"dwelling_id": None})


def _newcomer(session: Session, data: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
    """The person moving in: known (by id or ID hash) → their id; else the new record's facts."""
    if data.get("person_id") is not None:
        return int(data["person_id"]), {}
    number = clean_id(str(data.get("id_number") or ""))
    problem = id_problem(number)
    if problem is not None:
        raise InvalidInputError("the ID number is not valid", code=problem, field="id_number")
    digest = keyed_hash(number)
    known = session.execute(text("SELECT id FROM persons WHERE id_hash = :h"), {"h": digest})
    found = known.scalar_one_or_none()
    if found is not None:
        return int(found), {}
    name = str(data.get("name") or "").strip()
    if not name:
        raise InvalidInputError("a new resident needs a name", code="missing_field", field="name")
    year, sex = id_facts(number)
    residence = data.get("residence_type") or (
        "registered" if number[:6] == "510108" else "migrant"
    )
    facts = {"id_hash": digest, "id_masked": mask_id(number), "name": name, "sex": sex}
    return None, facts | {
        "birth_year": year,
        "residence_type": _word({"r": residence}, "r", RESIDENCE_TYPES),
    }


def _moved_in(session: Session, ident: int | None, data: dict[str, Any]) -> Target:
    home = dwelling_point(session, ident)
    person, facts = _newcomer(session, data)
    if person is None:
        return Target(
            "persons", None, home["lon"], home["lat"], {}, facts | {"dwelling_id": home["id"]}
        )
    row = _one(session, "SELECT id, dwelling_id FROM persons WHERE id = :i", person, "person")
    if row["dwelling_id"] == home["id"]:
        raise UnprocessableError("the person lives there already", code="nothing_changes")
    before, after = {"dwelling_id": row["dwelling_id"]}, {"dwelling_id": home["id"]}
    return Target("persons", row["id"], home["lon"], home["lat"], before, after)


def _unit(session: Session, ident: int | None) -> Any:
    return _one(
        session,
        "SELECT id, status, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM units WHERE id = :i",
        ident,
        "unit",
    )


def _unit_status(session: Session, ident: int | None, status: str) -> Target:
    row = _unit(session, ident)
    if row["status"] == status:
        raise UnprocessableError(f"the unit is {status} already", code="nothing_changes")
    return Target(
        "units", row["id"], row["lon"], row["lat"], {"status": row["status"]}, {"status": status}
    )


def _unit_opened(session: Session, ident: int | None, data: dict[str, Any]) -> Target:
    if ident is not None:
        return _unit_status(session, ident, "open")
    addr = _address(session, data.get("address_id"))
    name = str(data.get("name") or "").strip()
    if not name:
        raise InvalidInputError("a new unit needs a name", code="missing_field", field="name")
    cls = _word(data, "class", UNIT_CLASSES)
    after = {
        "name": name,
        "class": cls,
        "address_id": addr["id"],
        "licence_no": (str(data["licence_no"]).strip() or None) if data.get("licence_no") else None,
        "is_key_place": cls in KEY_PLACE_CLASSES,
    }
    return Target("units", None, addr["lon"], addr["lat"], {}, after)


def _address(session: Session, ident: Any) -> Any:
    return _one(
        session,
        f"SELECT a.id, a.full_text, {_POINT} FROM addresses a WHERE a.id = :i",  # noqa: S608
        int(ident) if ident is not None else None,
        "address",
    )


def _address_plate(session: Session, ident: int | None, data: dict[str, Any]) -> Target:
    row = _address(session, ident)
    plate = str(data.get("plate") or "").strip()
    if not plate:
        raise InvalidInputError("say what the plate shows", code="missing_field", field="plate")
    return Target(
        "addresses",
        row["id"],
        row["lon"],
        row["lat"],
        {"full_text": row["full_text"]},
        {"plate": plate},
    )


def resolve_target(session: Session, kind: str, ident: int | None, data: dict[str, Any]) -> Target:
    """The record `kind` is about, with its point and facts; 400/404/422 for a bad change."""
    if kind == "dwelling_use":
        return _dwelling_use(session, ident, data)
    if kind == "moved_out":
        return _moved_out(session, ident, data)
    if kind == "moved_in":
        return _moved_in(session, ident, data)
    if kind == "unit_closed":
        return _unit_status(session, ident, "closed")
    if kind == "unit_opened":
        return _unit_opened(session, ident, data)
    if kind == "address_plate":
        return _address_plate(session, ident, data)
    raise InvalidInputError(f"unknown change kind {kind!r}", code="unknown_kind")


def _buildings_of(session: Session, dwellings: list[Any]) -> list[int]:
    ids = [int(d) for d in dwellings if d is not None]
    rows = session.execute(
        text(
            "SELECT DISTINCT a.building_id FROM dwellings w JOIN addresses a ON a.id = w.address_id"
            " WHERE w.id = ANY(:d) AND a.building_id IS NOT NULL"
        ),
        {"d": ids},
    )
    return [int(r.building_id) for r in rows]


def _move(session: Session, target: Target, now: datetime, tolerance_m: float | None) -> bool:
    """A person into or out of a dwelling (new person: created); the figures follow."""
    new_home = target.after.get("dwelling_id")
    if target.entity_id is None:
        facts = target.after
        if session.execute(
            text("SELECT 1 FROM persons WHERE id_hash = :h"), {"h": facts["id_hash"]}
        ).first():
            return False
        target.entity_id = int(
            session.execute(
                text(
                    "INSERT INTO persons (id_hash, id_masked, name, sex, birth_year,"
                    " residence_type, dwelling_id, updated_at) VALUES (:id_hash, :id_masked,"
                    " :name, :sex, :birth_year, :residence_type, :dwelling_id, :t) RETURNING id"
                ),
                {**{k: facts[k] for k in _PERSON_FACTS}, "t": now},
            ).scalar_one()
        )
    else:
        moved = session.connection().execute(
            text(
                "UPDATE persons SET dwelling_id = :new, updated_at = :t"
                " WHERE id = :i AND dwelling_id IS NOT DISTINCT FROM :old"
            ),
            {"new": new_home, "t": now, "i": target.entity_id, "old": target.before["dwelling_id"]},
        )
        if moved.rowcount != 1:
            return False
    homes = [new_home, target.before.get("dwelling_id")]
    refresh_counts(session.connection(), _buildings_of(session, homes))
    refresh_cells_at(session=session, points=_entrances(session, homes), tolerance_m=tolerance_m)
    return True


def _entrances(session: Session, dwellings: list[Any]) -> list[tuple[float, float]]:
    rows = session.execute(
        text(
            "SELECT ST_X(a.geom), ST_Y(a.geom) FROM dwellings w JOIN addresses a"
            " ON a.id = w.address_id WHERE w.id = ANY(:d)"
        ),
        {"d": [int(d) for d in dwellings if d is not None]},
    )
    return [(float(x), float(y)) for x, y in rows]


_PERSON_FACTS = (
    "id_hash",
    "id_masked",
    "name",
    "sex",
    "birth_year",
    "residence_type",
    "dwelling_id",
)


def _new_unit(session: Session, target: Target) -> bool:
    facts = target.after
    if (
        facts["licence_no"]
        and session.execute(
            text("SELECT 1 FROM units WHERE licence_no = :l"), {"l": facts["licence_no"]}
        ).first()
    ):
        return False
    target.entity_id = int(
        session.execute(
            text(
                'INSERT INTO units (name, "class", licence_no, address_id, is_key_place, geom,'
                " status) SELECT :n, :c, :l, a.id, :k, a.geom, 'open' FROM addresses a"
                " WHERE a.id = :a RETURNING id"
            ),
            {
                "n": facts["name"],
                "c": facts["class"],
                "l": facts["licence_no"],
                "k": facts["is_key_place"],
                "a": facts["address_id"],
            },
        ).scalar_one()
    )
    return True


def apply_change(
    session: Session, kind: str, target: Target, now: datetime, tolerance_m: float | None = None
) -> bool:
    """Write the change if the record is still as `before` says; False when it is not."""
    if kind == "dwelling_use":
        done = session.connection().execute(
            text("UPDATE dwellings SET use = :new WHERE id = :i AND use = :old"),
            {"new": target.after["use"], "old": target.before["use"], "i": target.entity_id},
        )
        return done.rowcount == 1
    if kind in ("moved_in", "moved_out"):
        return _move(session, target, now, tolerance_m)
    if kind == "unit_opened" and target.entity_id is None:
        return _new_unit(session, target)
    if kind in ("unit_opened", "unit_closed"):
        done = session.connection().execute(
            text("UPDATE units SET status = :new WHERE id = :i AND status = :old"),
            {"new": target.after["status"], "old": target.before["status"], "i": target.entity_id},
        )
        return done.rowcount == 1
    return kind == "address_plate"  # the grid's statement only: civil affairs renames
