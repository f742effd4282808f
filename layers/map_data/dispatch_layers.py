"""The dispatcher map's data: open cases by status and overdue state, workers on duty.

Case texts (description, address) are user-supplied and go to the page as data
for the `maps` package to escape; reporter names and phones are never selected.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import InvalidInputError
from layers.core.map_types import DispatchLayers, QueueFilter
from layers.map_data.map_layers import _wkb_frame, outlines
from layers.tables.incidents import OPEN_STATUSES

logger = logging.getLogger(__name__)

MAX_CASES = 10_000


_CASES_SQL = """
SELECT i.id, i.category_code, c.name AS category, i.status, i.urgency,
       i.description, i.address, i.created_at, i.due_at,
       (i.due_at IS NOT NULL AND i.due_at < :now) AS overdue,
       s.name AS street, w.name AS assignee, ST_AsBinary(i.geom) AS wkb
FROM incidents i
JOIN categories c ON c.code = i.category_code
LEFT JOIN streets s ON s.id = i.street_id
LEFT JOIN workers w ON w.id = i.assignee_worker_id
WHERE i.status = ANY(:statuses)
  AND (CAST(:category AS text) IS NULL OR i.category_code = :category
       OR c.major_code = :category)
  AND (CAST(:street AS text) IS NULL OR s.code = :street)
  AND (NOT :overdue_only OR (i.due_at IS NOT NULL AND i.due_at < :now))
ORDER BY i.created_at DESC, i.id DESC
LIMIT :limit
"""

_COUNT_SQL = """
SELECT i.status, count(*) FROM incidents i
JOIN categories c ON c.code = i.category_code LEFT JOIN streets s ON s.id = i.street_id
WHERE i.status = ANY(:statuses)
  AND (CAST(:category AS text) IS NULL OR i.category_code = :category
       OR c.major_code = :category)
  AND (CAST(:street AS text) IS NULL OR s.code = :street)
  AND (NOT :overdue_only OR (i.due_at IS NOT NULL AND i.due_at < :now))
GROUP BY i.status
"""


def _check(session: Session, f: QueueFilter) -> None:
    bad = sorted(set(f.statuses) - set(OPEN_STATUSES))
    if bad:
        raise InvalidInputError(
            f"not an open status: {', '.join(bad)}", code="invalid_status", allowed=OPEN_STATUSES
        )
    if not 1 <= f.limit <= MAX_CASES:
        raise InvalidInputError(f"limit must be in [1, {MAX_CASES}]", code="invalid_limit")
    if (
        f.street
        and not session.execute(
            text("SELECT 1 FROM streets WHERE code = :c"), {"c": f.street}
        ).first()
    ):
        raise InvalidInputError(f"unknown street {f.street}", code="unknown_street")
    if (
        f.category
        and not session.execute(
            text("SELECT 1 FROM categories WHERE code = :c OR major_code = :c LIMIT 1"),
            {"c": f.category},
        ).first()
    ):
        raise InvalidInputError(f"unknown category {f.category}", code="unknown_category")


def dispatch_layers(*, session: Session, filters: QueueFilter, now: datetime) -> DispatchLayers:
    """Open cases matching the queue filters and the level-1 workers on duty."""
    _check(session, filters)
    params = {
        "statuses": list(filters.statuses or OPEN_STATUSES),
        "category": filters.category,
        "street": filters.street,
        "overdue_only": filters.overdue_only,
        "now": now,
    }
    cases = _wkb_frame(session, _CASES_SQL, params | {"limit": filters.limit})
    counts: dict[str, int] = dict(session.execute(text(_COUNT_SQL), params).all())
    workers = _wkb_frame(
        session,
        "SELECT code, name, cell_code, ST_AsBinary(geom) AS wkb FROM workers"
        " WHERE on_duty AND level = 1 AND geom IS NOT NULL ORDER BY code",
    )
    return DispatchLayers(
        outlines(session=session),
        cases,
        workers,
        int(sum(counts.values())),
        {k: int(v) for k, v in sorted(counts.items())},
        filters,
        now,
    )
