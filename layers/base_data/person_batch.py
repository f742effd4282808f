"""A persons file checked as columns: what `checks.person` does row by row, for a million rows.

The same checks in the same order, so every row gets the reason it would get
alone (missing field → ID number → date → address → coded values → duplicate
in the file): the ID numbers as one array (`id_columns`), their keyed hashes in
one call each, each distinct date and value once, each entrance once
(`ImportBook.locate`), and the known flats of all ambiguous rows (a building
of several 单元 named without one) in one query instead of one per row.  The
output is the rows to COPY, attributes computed by the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
from sqlalchemy import text

from layers.base_data.checks import RowRejectedError, reported_at
from layers.base_data.id_columns import id_problems, keyed_hashes
from layers.base_data.import_book import ImportBook, Located
from layers.base_data.privacy import clean_id, clean_phone, hashing_key, mask_id
from layers.tables.personal_data import mask_phone
from layers.tables.persons import RESIDENCE_TYPES, SERVICE_FLAGS

PERSON_COLUMNS = (
    *("row_no", "id_hash", "id_masked", "name", "sex", "birth_year", "phone_hash"),
    *("phone_masked", "residence_type", "default_residence", "address_id", "room", "flag"),
    "reported_at",
)
Reject = tuple[int, str, str]


def _memo(fn: Callable[[str], object]) -> Callable[[str], object]:
    """`fn` once per distinct argument; an exception is kept and raised again."""
    kept: dict[str, object] = {}

    def call(value: str) -> object:
        if value not in kept:
            try:
                kept[value] = fn(value)
            except RowRejectedError as exc:
                kept[value] = exc
        found = kept[value]
        if isinstance(found, RowRejectedError):
            raise found
        return found

    return call


def _coded(name: str, allowed: tuple[str, ...]) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise RowRejectedError(
                "unknown_value", f"{name} {value!r} is none of {', '.join(allowed)}"
            )
        return value

    return check


def _known_flats(book: ImportBook, hashes: list[str]) -> dict[str, tuple[int, str | None]]:
    """Each hashed person's present flat (address, room), for the ambiguous rows at once."""
    assert book.session is not None, "an import's book has its session"
    rows = book.session.execute(
        text(
            "SELECT p.id_hash, w.address_id, w.room FROM persons p"
            " JOIN dwellings w ON w.id = p.dwelling_id WHERE p.id_hash = ANY(:h)"
        ),
        {"h": hashes},
    ).all()
    return {r.id_hash: (int(r.address_id), r.room) for r in rows}


class _Address:
    """`checks.address_of` for a person row, the ambiguous ones resolved from `flats`."""

    def __init__(self, book: ImportBook) -> None:
        self.book = book
        self.flats: dict[str, tuple[int, str | None]] = {}

    def ambiguous(self, located: Located | None) -> bool:
        """Whether the row's address (`ImportBook.locate`d) needs its person's known flat."""
        if located is None:
            return False
        found, parts, _ = located
        return found is not None and bool(self.book.ambiguous(found, parts))

    def __call__(
        self, raw: str | None, located: Located | None, id_hash: str
    ) -> tuple[int, str | None]:
        if not raw or located is None:
            raise RowRejectedError("missing_field", "no address")
        found, parts, room = located
        if found is not None:
            choices = self.book.ambiguous(found, parts)
            if not choices:
                return found.address_id, room
            flat = self.flats.get(id_hash)
            if flat is not None and room is not None and flat[0] in choices and flat[1] == room:
                return flat[0], room
            shown = parts.standard if parts else raw
            raise RowRejectedError(
                "ambiguous_address", f"{shown} has {len(choices)} 单元; the row names none"
            )
        if parts is None:
            raise RowRejectedError("unparseable_address", f"no road and house number in {raw!r}")
        if parts.road not in self.book.roads:
            raise RowRejectedError(
                "unknown_road", f"no road {parts.road!r} (nor an old name of one)"
            )
        raise RowRejectedError("unmatched_address", f"no standard address {parts.standard!r}")


def _first_checks(
    recs: list[dict[str, str]], now: datetime
) -> tuple[list[str], list[RowRejectedError | None], np.ndarray, np.ndarray]:
    """Cleaned ID numbers, per row the reject of the checks before the address (or None),
    and the birth years and sexes the numbers state."""
    numbers = [clean_id(r["id_number"]) if r.get("id_number") else "" for r in recs]
    problems, years, sexes = id_problems(numbers)
    when = _memo(lambda raw: reported_at({"reported_on": raw}, now))
    early: list[RowRejectedError | None] = []
    for rec, number, problem in zip(recs, numbers, problems, strict=True):
        try:
            if not rec.get("id_number") or not rec.get("name"):
                raise RowRejectedError("missing_field", "a person needs a name and an ID number")
            if problem is not None:
                shown = mask_id(number) if len(number) == 18 else "*" * len(number)
                raise RowRejectedError(problem, f"ID number {shown} is not valid ({problem})")
            when(rec.get("reported_on") or "")
            early.append(None)
        except RowRejectedError as exc:
            early.append(exc)
    return numbers, early, years, sexes


def check_persons(
    book: ImportBook, recs: list[dict[str, str]], now: datetime
) -> tuple[list[tuple[object, ...]], list[Reject]]:
    """The rows to write (`PERSON_COLUMNS`) and the rejects, in file order (row 2 on)."""
    numbers, early, years, sexes = _first_checks(recs, now)
    key = hashing_key()
    hashes = keyed_hashes(numbers, key)
    address = _Address(book)
    located = [book.locate(r["address"]) if r.get("address") else None for r in recs]
    unsure = [
        h
        for h, e, loc in zip(hashes, early, located, strict=True)
        if e is None and address.ambiguous(loc)
    ]
    address.flats = _known_flats(book, unsure) if unsure else {}
    when = _memo(lambda raw: reported_at({"reported_on": raw}, now).isoformat())
    residence = _memo(_coded("residence_type", RESIDENCE_TYPES))
    flag = _memo(_coded("flag", SERVICE_FLAGS))
    seen: dict[str, int] = {}
    good: list[tuple[object, ...]] = []
    rejects: list[Reject] = []
    for i, rec in enumerate(recs):
        row = i + 2
        try:
            if early[i] is not None:
                raise early[i]  # type: ignore[misc]
            number, id_hash = numbers[i], hashes[i]
            address_id, room = address(rec.get("address"), located[i], id_hash)
            phone = clean_phone(rec.get("phone", "")) or None
            values = (
                row,
                id_hash,
                mask_id(number),
                rec["name"],
                str(sexes[i]),
                int(years[i]),
                keyed_hashes([phone], key)[0] if phone else None,
                mask_phone(phone),
                residence(rec["residence_type"]) if "residence_type" in rec else None,
                "registered" if number.startswith("510108") else "migrant",
                address_id,
                room,
                flag(rec["flag"]) if "flag" in rec else None,
                when(rec.get("reported_on") or ""),
            )
            if id_hash in seen:
                raise RowRejectedError(
                    "duplicate_in_file", f"the same record as row {seen[id_hash]}"
                )
            seen[id_hash] = row
            good.append(values)
        except RowRejectedError as exc:
            rejects.append((row, exc.reason, exc.detail))
    return good, rejects
