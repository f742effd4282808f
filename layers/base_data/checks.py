"""One department row → a clean record, or the reason it is rejected.

The reasons are codes a rejects file names per row: ``unparseable_address``,
``unknown_road``, ``unmatched_address``, ``missing_field``, ``id_shape``,
``id_date``, ``id_checksum`` (the GB 11643 check digit), ``duplicate_in_file``,
``impossible_date``, ``unknown_value``, ``ambiguous_address`` (a building of
several 单元 named without one, unless the person is known to live there).
The plain ID number is hashed here and goes no further: a record and a reject
carry the masked form only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from layers.base_data.matching import AddressBook
from layers.base_data.privacy import (
    clean_id,
    clean_phone,
    hashing_key,
    id_facts,
    id_problem,
    keyed_hash,
    mask_id,
)
from layers.tables.dwellings import DWELLING_USES
from layers.tables.personal_data import mask_phone
from layers.tables.persons import RESIDENCE_TYPES, SERVICE_FLAGS
from layers.tables.units import UNIT_CLASSES

_DATE = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?$")


Resolver = Callable[[list[int], str | None], int | None]
"""Picks one of several entrances for a row (or None), given the room it names."""


class RowRejectedError(Exception):
    """A row is refused: `reason` (a code) and a human `detail`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class Record:
    """A checked row: the values to write, the matched address, the provenance attributes."""

    row: int
    values: dict[str, Any]
    address_id: int | None
    attrs: dict[str, Any] = field(default_factory=dict)
    key: str = ""


def reported_at(rec: dict[str, str], now: datetime) -> datetime:
    """The row's date (`reported_on`), else now; a date that cannot be, or is ahead, is refused."""
    raw = rec.get("reported_on")
    if not raw:
        return now
    m = _DATE.match(raw.strip())
    try:
        if m is None:
            raise ValueError(raw)
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise RowRejectedError("impossible_date", f"no such date: {raw!r}") from exc
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment > now or day.year < 1900:
        raise RowRejectedError("impossible_date", f"date out of range: {raw!r}")
    return moment


def address_of(
    book: AddressBook, rec: dict[str, str], resolve: Resolver | None = None
) -> tuple[int | None, str | None]:
    """The matched standard address id and the room written after it.

    A building of several 单元 named without its 单元 is ``ambiguous_address``
    unless `resolve` picks one of the entrances (a known person's own flat).
    """
    raw = rec.get("address")
    if not raw:
        raise RowRejectedError("missing_field", "no address")
    match, parts, _ = book.match(raw)
    if match is not None:
        room = parts.room if parts else None
        choices = book.ambiguous(match, parts)
        if not choices:
            return match.address_id, room
        picked = resolve(choices, room) if resolve is not None else None
        if picked is None:
            raise RowRejectedError(
                "ambiguous_address",
                f"{parts.standard if parts else raw} has {len(choices)} 单元; the row names none",
            )
        return picked, room
    if parts is None:
        raise RowRejectedError("unparseable_address", f"no road and house number in {raw!r}")
    if parts.road not in book.roads:
        raise RowRejectedError("unknown_road", f"no road {parts.road!r} (nor an old name of one)")
    raise RowRejectedError("unmatched_address", f"no standard address {parts.standard!r}")


def _coded(rec: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = rec.get(name)
    if value is not None and value not in allowed:
        raise RowRejectedError("unknown_value", f"{name} {value!r} is none of {', '.join(allowed)}")
    return value


def person(book: AddressBook, rec: dict[str, str], row: int, now: datetime) -> Record:
    """A person row: hashed ID (birth year and sex from it), masked forms, the dwelling's room."""
    if not rec.get("id_number") or not rec.get("name"):
        raise RowRejectedError("missing_field", "a person needs a name and an ID number")
    number = clean_id(rec["id_number"])
    problem = id_problem(number)
    if problem is not None:
        shown = mask_id(number) if len(number) == 18 else "*" * len(number)
        raise RowRejectedError(problem, f"ID number {shown} is not valid ({problem})")
    at = reported_at(rec, now)
    key = hashing_key()
    id_hash = keyed_hash(number, key)
    address_id, room = address_of(book, rec, lambda c, r: own_flat(book, id_hash, c, r))
    year, sex = id_facts(number)
    phone = clean_phone(rec.get("phone", "")) or None
    residence = _coded(rec, "residence_type", RESIDENCE_TYPES)
    flag = _coded(rec, "flag", SERVICE_FLAGS)
    values = {
        "id_hash": id_hash,
        "id_masked": mask_id(number),
        "name": rec["name"],
        "sex": sex,
        "birth_year": year,
        "phone_hash": keyed_hash(phone, key) if phone else None,
        "phone_masked": mask_phone(phone),
        "residence_type": residence,
        "default_residence": "registered" if number.startswith("510108") else "migrant",
        "room": room,
        "flag": flag,
        "reported_at": at,
    }
    attrs = {k: values[k] for k in ("name", "id_masked", "phone_masked", "residence_type", "flag")}
    attrs["address"] = book.text_of.get(address_id or 0)
    kept = {k: v for k, v in attrs.items() if v}
    return Record(row, values, address_id, kept, str(values["id_hash"]))


def own_flat(book: AddressBook, id_hash: str, choices: list[int], room: str | None) -> int | None:
    """The entrance among `choices` of the flat `room` the person is already known to live in."""
    assert book.session is not None, "an import's book has its session"
    found = book.session.execute(
        text(
            "SELECT w.address_id FROM persons p JOIN dwellings w ON w.id = p.dwelling_id"
            " WHERE p.id_hash = :h AND w.address_id = ANY(:c) AND w.room = :r"
        ),
        {"h": id_hash, "c": choices, "r": room},
    ).scalar()
    return int(found) if found is not None else None


def dwelling(book: AddressBook, rec: dict[str, str], row: int, now: datetime) -> Record:
    """A dwelling row: the address with its room (室), floor, use, area."""
    at = reported_at(rec, now)
    address_id, room = address_of(book, rec)
    if not room:
        raise RowRejectedError("missing_field", "a dwelling's address needs its room (…单元201室)")
    use = _coded(rec, "use", DWELLING_USES) or "self_occupied"
    try:
        floor = int(rec["floor"]) if rec.get("floor") else None
        area = float(rec["area_m2"]) if rec.get("area_m2") else None
    except ValueError as exc:
        raise RowRejectedError("unknown_value", f"floor or area is not a number: {exc}") from exc
    values = {"room": room, "floor": floor, "use": use, "area_m2": area, "reported_at": at}
    attrs: dict[str, Any] = {"room": room, "use": use, "floor": floor, "area_m2": area}
    for kind in ("owner", "tenant"):  # person_links: hashed here, linked to known persons
        values[f"{kind}_hash"], masked = _linked_id(rec.get(f"{kind}_id_number"))
        if masked:
            attrs[kind] = masked
    return Record(row, values, address_id, attrs, f"{address_id}:{room}")


def _linked_id(raw: str | None) -> tuple[str | None, str | None]:
    """An owner's or tenant's ID number → (keyed hash, masked form); a bad one rejects the row."""
    if not raw or not raw.strip():
        return None, None
    number = clean_id(raw)
    problem = id_problem(number)
    if problem is not None:
        shown = mask_id(number) if len(number) == 18 else "*" * len(number)
        raise RowRejectedError(problem, f"ID number {shown} is not valid ({problem})")
    return keyed_hash(number), mask_id(number)


def unit(book: AddressBook, rec: dict[str, str], row: int, now: datetime) -> Record:
    """A unit row: name, class, licence number (the key), contact, address."""
    if not rec.get("name") or not rec.get("licence_no"):
        raise RowRejectedError("missing_field", "a unit needs a name and a licence number")
    at = reported_at(rec, now)
    cls = _coded(rec, "class", UNIT_CLASSES) or "company"
    address_id, _ = address_of(book, rec)
    values = {
        "name": rec["name"],
        "class": cls,
        "licence_no": rec["licence_no"].strip().upper(),
        "contact_name": rec.get("contact_name"),
        "contact_phone": clean_phone(rec.get("contact_phone", "")) or None,
        "reported_at": at,
    }
    attrs = {"name": rec["name"], "class": cls, "address": book.text_of.get(address_id or 0)}
    return Record(row, values, address_id, attrs, str(values["licence_no"]))
