"""The case access rule inside the feature API: which rows of `incidents` a reader gets.

Items, counts, single items, downloads and tiles all add `rows_condition` to their
WHERE, so QGIS, GDAL and web maps see exactly the cases `/incidents/{id}` would
show the same key.  Without a resolved scope (a caller that only knows a role,
such as the CLI), a role that is scoped to cells or keys sees nothing: the rule
fails closed.  Reads that carry reporter data in clear are audited here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from layers.ogc.cql import Binds
from layers.ogc.registry import Collection, Field
from layers.tables.case_scope import CaseScope, Viewer, resolve_scope
from layers.tables.personal_data import record_personal_read


def scope_for(*, session: Session, collection: Collection, viewer: Viewer) -> CaseScope | None:
    """The reader's case scope when the collection's rows are cases (else None)."""
    if not collection.case_rows:
        return None
    return resolve_scope(session=session, viewer=viewer)


def rows_condition(
    collection: Collection, role: str, scope: CaseScope | None, binds: Binds
) -> str | None:
    """The WHERE fragment (row alias `t`) limiting case rows to the reader, or None."""
    if not collection.case_rows:
        return None
    chosen = scope if scope is not None and scope.viewer.role == role else CaseScope(Viewer(role))
    fragment, params = chosen.rows_sql("t")
    binds.values.update(params)
    return fragment


def audit_personal_read(
    *,
    session: Session,
    collection: Collection,
    fields: tuple[Field, ...],
    ids: Iterable[int],
    viewer: Viewer,
    face: str,
    now: datetime | None,
) -> bool:
    """Audit a read of the personal fields among `fields`; True when one was recorded."""
    personal = tuple(f.name for f in fields if f.personal)
    if not personal:
        return False
    ids = list(ids)
    record_personal_read(
        session=session,
        actor=viewer.name,
        role=viewer.role,
        ids=ids,
        face=face,
        at=now,
        fields=personal,
        entity=collection.table,
    )
    return bool(ids)
