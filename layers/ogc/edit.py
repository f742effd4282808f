"""Create, replace, update and delete features (OGC API – Features Part 4).

Only the editable collections (service points, courtyards, buildings, cameras)
take writes; grid cells change through planning revisions only.  Every change
checks the row's `version` against the client's `If-Match` (optimistic
locking), bumps it, and is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from layers.core.constants import WGS84
from layers.core.errors import (
    ConflictError,
    InvalidInputError,
    MethodNotAllowedError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from layers.ogc.crs_uris import OutputCrs
from layers.ogc.feature_input import current_feature, feature_to_row, merge_patch
from layers.ogc.registry import Collection, get_collection
from layers.ogc.rows import Prepared, prepare_rows
from layers.store.sql import quote_ident
from layers.tables.audit import record


@dataclass(frozen=True)
class Actor:
    """Who writes, for the audit log."""

    name: str
    role: str


def editable(collection_id: str, role: str) -> Collection:
    """The collection if it takes writes; 404 when hidden, 405 when read-only."""
    collection = get_collection(collection_id, role)
    if not collection.editable:
        raise MethodNotAllowedError(
            f"{collection.id} is read-only here", code="read_only_collection"
        )
    return collection


def _raise_problems(prepared: Prepared) -> None:
    problems = [p for found in prepared.problems.values() for p in found]
    if not problems:
        return
    details = [p.as_dict() for p in problems]
    if any(p.conflict for p in problems):
        raise ConflictError("the code is already in use", code="duplicate_code", problems=details)
    raise InvalidInputError(
        "the feature is not valid: " + "; ".join(f"{p.field} {p.reason}" for p in problems),
        code="invalid_feature",
        problems=details,
    )


def _lock(session: Session, collection: Collection, item_id: str, if_match: str | None) -> int:
    """Lock the row and check If-Match; returns the row id."""
    if not item_id.isdigit() or len(item_id) > 18:
        raise NotFoundError(f"no feature {item_id!r} in {collection.id}", code="unknown_feature")
    row = session.execute(
        text(
            f"SELECT version FROM {quote_ident(collection.table)} t "  # noqa: S608 - quoted
            "WHERE t.id = :id FOR UPDATE"
        ),
        {"id": int(item_id)},
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no feature {item_id!r} in {collection.id}", code="unknown_feature")
    if not if_match:
        raise PreconditionRequiredError("send If-Match with the ETag you read")
    # W/"v3" is what a gzipped GET carries (`geo_api.middleware.compression`): the same version.
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and f'"v{row.version}"' not in tags:
        raise PreconditionFailedError(
            "the feature changed since you read it; fetch it again", current_version=row.version
        )
    return int(item_id)


def _write(
    session: Session, collection: Collection, values: dict[str, Any], row_id: int | None
) -> tuple[int, int]:
    """INSERT (row_id None) or full UPDATE; missing writable columns get their default."""
    binds: dict[str, Any] = {}
    exprs: dict[str, str] = {}
    geometry_columns = ("geom", *collection.extra_geometries)
    writable = [f.name for f in collection.fields if f.writable]
    for i, name in enumerate([*writable, *geometry_columns]):
        if name not in values:
            if row_id is not None:
                exprs[name] = "DEFAULT"
            continue
        binds[f"v{i}"] = values[name]
        placeholder = f":v{i}"
        exprs[name] = (
            f"ST_GeomFromWKB({placeholder}, {WGS84})" if name in geometry_columns else placeholder
        )
    table = quote_ident(collection.table)
    if row_id is None:
        cols = ", ".join(quote_ident(c) for c in exprs)
        values_sql = ", ".join(exprs.values())
        sql = f"INSERT INTO {table} ({cols}) VALUES ({values_sql}) "  # noqa: S608 - quoted
    else:
        sets = ", ".join(f"{quote_ident(c)} = {e}" for c, e in exprs.items())
        sql = (
            f"UPDATE {table} SET {sets}, version = version + 1, "  # noqa: S608 - quoted
            "updated_at = now() WHERE id = :id "
        )
        binds["id"] = row_id
    try:
        row = session.execute(text(sql + "RETURNING id, version"), binds).one()
    except IntegrityError as exc:
        raise ConflictError("the change clashes with another row", code="constraint") from exc
    return int(row.id), int(row.version)


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    collection: Collection,
    row_id: int,
    data: dict[str, Any],
) -> None:
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action=f"ogc.{action}",
        entity=collection.table,
        entity_id=row_id,
        data={"collection": collection.id, **data},
    )


def create_feature(
    *, session: Session, collection_id: str, feature: Any, crs: OutputCrs, actor: Actor
) -> tuple[int, int]:
    """Insert a new feature; returns (id, version)."""
    collection = editable(collection_id, actor.role)
    prepared = prepare_rows(session, collection, [feature_to_row(feature, crs, collection)])
    _raise_problems(prepared)
    row_id, version = _write(session, collection, prepared.rows[0], None)
    _audit(session, actor, "create", collection, row_id, {"version": version})
    return row_id, version


def replace_feature(
    *,
    session: Session,
    collection_id: str,
    item_id: str,
    feature: Any,
    crs: OutputCrs,
    if_match: str | None,
    actor: Actor,
) -> int:
    """Replace a feature entirely; returns the new version."""
    collection = editable(collection_id, actor.role)
    row_id = _lock(session, collection, item_id, if_match)
    row = feature_to_row(feature, crs, collection)
    prepared = prepare_rows(session, collection, [row], own_ids={row.number: row_id})
    _raise_problems(prepared)
    _, version = _write(session, collection, prepared.rows[0], row_id)
    _audit(session, actor, "replace", collection, row_id, {"version": version})
    return version


def update_feature(
    *,
    session: Session,
    collection_id: str,
    item_id: str,
    patch: Any,
    crs: OutputCrs,
    if_match: str | None,
    actor: Actor,
) -> int:
    """Apply a JSON merge patch to a feature; returns the new version."""
    collection = editable(collection_id, actor.role)
    row_id = _lock(session, collection, item_id, if_match)
    current = current_feature(session, collection, row_id)
    row = merge_patch(current, patch, crs, collection)
    prepared = prepare_rows(session, collection, [row], own_ids={row.number: row_id})
    _raise_problems(prepared)
    _, version = _write(session, collection, prepared.rows[0], row_id)
    changed = sorted(set(patch.get("properties") or {}) | ({"geometry"} & set(patch)))
    _audit(session, actor, "update", collection, row_id, {"version": version, "fields": changed})
    return version


def delete_feature(
    *, session: Session, collection_id: str, item_id: str, if_match: str | None, actor: Actor
) -> None:
    """Delete a feature (references to it are cleared by the schema's ON DELETE rules)."""
    collection = editable(collection_id, actor.role)
    row_id = _lock(session, collection, item_id, if_match)
    table = quote_ident(collection.table)
    session.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row_id})  # noqa: S608
    _audit(session, actor, "delete", collection, row_id, {})
