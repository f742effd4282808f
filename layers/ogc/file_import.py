"""`wangge import`: load a GIS file into an editable collection, all rows or none.

Every row is validated (geometry valid and inside the district, required
fields, field rules, codes unique); if any row is bad nothing is written and the
report lists every bad row with its reasons.  `append` adds rows whose codes are
new; `replace` makes the collection equal to the file, matched by code: rows
with a known code are updated in place (ids, and so references, survive), new
codes inserted, codes missing from the file deleted.  One transaction, one
audit entry, bulk-loaded through COPY.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.constants import WGS84
from layers.core.errors import InvalidInputError, UnprocessableError
from layers.core.roles import Role
from layers.ogc.file_reader import read_rows
from layers.ogc.registry import Collection, get_collection
from layers.ogc.rows import prepare_rows
from layers.ogc.validate import Problem
from layers.store.copy import copy_rows
from layers.store.driver import rowcount
from layers.store.sql import quote_ident
from layers.tables.audit import record

logger = logging.getLogger(__name__)
MODES = ("append", "replace")
MAX_REPORTED = 10_000


@dataclass
class ImportReport:
    """What an import did, or why it did nothing."""

    collection: str
    mode: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    problems: dict[int, list[Problem]] = field(default_factory=dict)


def _existing_ids(session: Session, collection: Collection, codes: list[Any]) -> dict[str, int]:
    column = quote_ident(collection.code_field or "code")
    rows = session.execute(
        text(
            f"SELECT {column} AS code, id FROM {quote_ident(collection.table)} "  # noqa: S608
            f"WHERE {column} = ANY(:codes)"
        ),
        {"codes": [c for c in codes if isinstance(c, str)]},
    ).all()
    return {r.code: r.id for r in rows}


def _own_ids(session: Session, collection: Collection, rows: list[Any]) -> dict[int, int]:
    """Row number → id of the stored row with the same code (replaced, so not a clash)."""
    name = collection.code_field or "code"
    ids = _existing_ids(session, collection, [r.properties.get(name) for r in rows])
    return {r.number: ids[r.properties[name]] for r in rows if r.properties.get(name) in ids}


def _with_defaults(collection: Collection, rows: list[dict[str, Any]]) -> list[str]:
    """Fill omitted fields with their defaults; returns the column list to load."""
    writable = [f for f in collection.fields if f.writable]
    for row in rows:
        for f in writable:
            if row.get(f.name) is None and f.default is not None:
                row[f.name] = f.default
    return [f.name for f in writable] + ["geom", *collection.extra_geometries]


def _load(
    session: Session,
    collection: Collection,
    rows: list[dict[str, Any]],
    mode: str,
    report: ImportReport,
) -> None:
    columns = _with_defaults(collection, rows)
    table = quote_ident(collection.table)
    code = quote_ident(collection.code_field or "code")
    cols = ", ".join(quote_ident(c) for c in columns)
    session.execute(
        text(
            f"CREATE TEMP TABLE import_rows ON COMMIT DROP AS SELECT {cols} "  # noqa: S608
            f"FROM {table} WITH NO DATA"
        )
    )
    geometry_columns = {"geom", *collection.extra_geometries}

    def cells(row: dict[str, Any]) -> list[Any]:
        return [
            shapely.set_srid(shapely.from_wkb(row[c]), WGS84)
            if c in geometry_columns and row.get(c) is not None
            else row.get(c)
            for c in columns
        ]

    copy_rows(session.connection(), "import_rows", columns, (cells(r) for r in rows))
    if mode == "replace":
        report.deleted = rowcount(
            session.execute(
                text(
                    f"DELETE FROM {table} t WHERE NOT EXISTS "  # noqa: S608
                    f"(SELECT 1 FROM import_rows i WHERE i.{code} = t.{code})"
                )
            )
        )
        sets = ", ".join(f"{quote_ident(c)} = i.{quote_ident(c)}" for c in columns)
        report.updated = rowcount(
            session.execute(
                text(
                    f"UPDATE {table} t SET {sets}, version = t.version + 1, "  # noqa: S608
                    f"updated_at = now() FROM import_rows i WHERE i.{code} = t.{code}"
                )
            )
        )
    report.inserted = rowcount(
        session.execute(
            text(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM import_rows i "  # noqa: S608
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{code} = i.{code})"
            )
        )
    )


def import_file(
    *,
    session: Session,
    collection_id: str,
    path: Path,
    mode: str = "append",
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    actor: str = "cli",
    report: Callable[[str], None] = logger.info,
) -> ImportReport:
    """Validate and load `path`; UnprocessableError listing every problem if any row is bad."""
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}", code="invalid_mode")
    collection = get_collection(collection_id, Role.ADMIN)
    if not collection.editable:
        raise InvalidInputError(f"{collection.id} cannot be imported into", code="read_only")
    found = read_rows(path, collection, crs=crs, encoding=encoding, layer=layer, report=report)
    result = ImportReport(
        collection.id, mode, len(found.rows), ignored_columns=found.ignored_columns
    )
    if found.ignored_columns:
        report(f"ignored columns: {', '.join(found.ignored_columns)}")
    own = _own_ids(session, collection, found.rows) if mode == "replace" else {}
    prepared = prepare_rows(session, collection, found.rows, own_ids=own, progress=report)
    if not prepared.ok:
        result.problems = prepared.problems
        raise UnprocessableError(
            f"{len(prepared.problems):,} of {len(found.rows):,} rows are not valid; "
            "nothing was written",
            code="invalid_rows",
            rows=_problem_list(prepared.problems),
        )
    _load(session, collection, prepared.rows, mode, result)
    counts = {
        "read": result.read,
        "inserted": result.inserted,
        "updated": result.updated,
        "deleted": result.deleted,
    }
    record(
        session=session,
        actor=actor,
        role=Role.ADMIN,
        action=f"import.{mode}",
        entity=collection.table,
        data={"collection": collection.id, "file": path.name, **counts},
    )
    return result


def _problem_list(problems: dict[int, list[Problem]]) -> list[dict[str, Any]]:
    out = []
    for number in sorted(problems)[:MAX_REPORTED]:
        out.append({"row": number, "problems": [p.as_dict() for p in problems[number]]})
    return out
