"""`wangge base import SOURCE FILE --class …`: one department file, all or nothing.

Read (CSV in UTF-8/GB18030, or XLSX) → map the columns (`mappings.toml`) →
check and match every row (`checks`) → write (`writers`) → recount the
buildings' and courtyards' figures — in one transaction.  A row that fails a
check is named in the rejects with its reason; with any reject nothing is
written unless the caller accepts them (``skip_rejects``: the good rows go
in, the bad ones stay in the rejects file).  The same file again (its SHA-256)
imports nothing new.  The timings per stage are kept for the progress line
and the benchmark.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.base_data import address_rows, checks, writers
from layers.base_data.checks import Record, RowRejectedError
from layers.base_data.figures import refresh_counts
from layers.base_data.files import mapped_rows, mapping_for, read_table
from layers.base_data.import_book import ImportBook
from layers.base_data.matching import AddressBook
from layers.base_data.person_batch import check_persons
from layers.core.errors import InvalidInputError, NotFoundError, UnprocessableError
from layers.tables.audit import record as audit

CHECKS: dict[str, Callable[[AddressBook, dict[str, str], int, datetime], Record]] = {
    "persons": checks.person,
    "dwellings": checks.dwelling,
    "units": checks.unit,
    "addresses": address_rows.address,
}
WRITERS: dict[str, Callable[..., tuple[int, int]]] = {
    "persons": writers.write_persons,
    "dwellings": writers.write_dwellings,
    "units": writers.write_units,
    "addresses": address_rows.write_addresses,
}
CLASSES = tuple(CHECKS)
WORK_MEM = "128MB"
"""The sort and hash memory of an import's statements (the server's default is 4 MB)."""


@dataclass
class ImportResult:
    """What a file gave: rows, created, merged, rejects, and seconds per stage."""

    rows: int = 0
    created: int = 0
    merged: int = 0
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    already: bool = False
    encoding: str = ""
    stages: dict[str, float] = field(default_factory=dict)


class FileRejectedError(UnprocessableError):
    """Rows of the file failed their checks; nothing was written (`result` names them)."""

    result: ImportResult


def _source(session: Session, code: str) -> tuple[int, str]:
    row = session.execute(text("SELECT id, code FROM sources WHERE code = :c"), {"c": code}).first()
    if row is None:
        raise NotFoundError(f"unknown source {code!r}", code="unknown_source")
    return int(row.id), str(row.code)


def _check_rows(
    session: Session,
    base_class: str,
    recs: list[dict[str, str]],
    now: datetime,
    result: ImportResult,
) -> list[Any]:
    """The checked rows (records, or a persons file's rows to COPY); rejects into `result`."""
    book = ImportBook(session)
    if base_class == "persons":  # the million-row class: checked as columns, same verdicts
        rows, rejects = check_persons(book, recs, now)
        result.rejects.extend(rejects)
        return rows
    if base_class == "addresses":
        address_rows.points_inside(book, recs)
    seen: dict[str, int] = {}
    good: list[Record] = []
    for row, rec in enumerate(recs, start=2):  # row 1 is the header
        try:
            checked = CHECKS[base_class](book, rec, row, now)
            if checked.key in seen:
                raise RowRejectedError(
                    "duplicate_in_file", f"the same record as row {seen[checked.key]}"
                )
            seen[checked.key] = row
            good.append(checked)
        except RowRejectedError as exc:
            result.rejects.append((row, exc.reason, exc.detail))
    return good


def _imported_before(session: Session, source_id: int, base_class: str, digest: str) -> bool:
    return (
        session.execute(
            text(
                "SELECT 1 FROM base_imports"
                " WHERE source_id = :s AND base_class = :c AND sha256 = :h"
            ),
            {"s": source_id, "c": base_class, "h": digest},
        ).first()
        is not None
    )


def _rejected(result: ImportResult) -> FileRejectedError:
    error = FileRejectedError(
        f"{len(result.rejects)} of {result.rows} rows were rejected; nothing was imported",
        code="rows_rejected",
        rejects=len(result.rejects),
    )
    error.result = result
    return error


def import_file(
    *,
    session: Session,
    source: str,
    base_class: str,
    name: str,
    data: bytes,
    actor: str,
    role: str,
    now: datetime,
    skip_rejects: bool = False,
) -> ImportResult:
    """Import one file into the session's transaction (the caller commits)."""
    if base_class not in CHECKS:
        raise InvalidInputError(
            f"--class must be one of {', '.join(CLASSES)}", code="unknown_class"
        )
    src = _source(session, source)
    digest = hashlib.sha256(data).hexdigest()
    result = ImportResult()
    if _imported_before(session, src[0], base_class, digest):
        result.already = True
        return result
    started = time.perf_counter()
    header, rows, result.encoding = read_table(name, data)
    recs = mapped_rows(header, rows, mapping_for(source, base_class))
    result.rows = len(recs)
    result.stages["read"] = time.perf_counter() - started
    started = time.perf_counter()
    good = _check_rows(session, base_class, recs, now, result)
    result.stages["check_and_match"] = time.perf_counter() - started
    if result.rejects and not skip_rejects:
        raise _rejected(result)
    import_id = _write(session, src, base_class, (digest, name), good, result, now)
    audit(
        session=session,
        actor=actor,
        role=role,
        action="base_import",
        entity="base_imports",
        entity_id=import_id,
        at=now,
        data={
            "source": source,
            "class": base_class,
            "file": name,
            "rows": len(recs),
            "created": result.created,
            "merged": result.merged,
            "rejected": len(result.rejects),
        },
    )
    session.execute(
        text("UPDATE base_imports SET created = :c, merged = :m, actor = :a WHERE id = :i"),
        {"c": result.created, "m": result.merged, "a": actor, "i": import_id},
    )
    return result


def _write(
    session: Session,
    src: tuple[int, str],
    base_class: str,
    file: tuple[str, str],
    good: list[Any],
    result: ImportResult,
    now: datetime,
) -> int:
    """Record the file, write its records, recount the figures; the import's id."""
    started = time.perf_counter()
    import_id = session.execute(
        text(
            "INSERT INTO base_imports (source_id, base_class, sha256, file_name, rows, created,"
            " merged, actor, imported_at) VALUES (:s, :c, :h, :n, :r, 0, 0, '', :t) RETURNING id"
        ),
        {"s": src[0], "c": base_class, "h": file[0], "n": file[1], "r": result.rows, "t": now},
    ).scalar_one()
    conn = session.connection()
    # A million-row file's joins hash in memory, not in 16 batches on disk (this transaction only).
    conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    result.created, result.merged = WRITERS[base_class](conn, good, src, import_id)
    result.stages["write"] = time.perf_counter() - started
    started = time.perf_counter()
    if base_class == "persons":  # people moved in and out: the buildings they left count too
        refresh_counts(conn)
    result.stages["figures"] = time.perf_counter() - started
    return int(import_id)
