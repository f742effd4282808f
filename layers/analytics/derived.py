"""Caches of derived layers: computed from other tables, kept until their inputs change.

A derived layer (camera views, hotspot statistics, coverage reports) is expensive
to compute and cheap to check: each cached entry carries `inputs_key`, a digest of
the rows it was computed from, and is recomputed only when the digest differs.
Nothing here is a source of truth; deleting these rows only costs time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.tables.audit import record
from layers.tables.derived_cache import DerivedCache

logger = logging.getLogger(__name__)


def params_key(params: dict[str, Any]) -> str:
    """A stable digest of a parameter set (sorted JSON)."""
    blob = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cached(*, session: Session, kind: str, params: str, inputs_key: str) -> DerivedCache | None:
    """The cached entry for (`kind`, `params`) when it was computed from the same inputs."""
    entry = session.get(DerivedCache, (kind, params))
    if entry is None or entry.inputs_key != inputs_key:
        return None
    return entry


def lock(*, session: Session, kind: str) -> None:
    """Serialise recomputations of one derived layer (transaction-scoped advisory lock)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"derived:{kind}"})


def store(
    *,
    session: Session,
    kind: str,
    params: str,
    inputs_key: str,
    payload: dict[str, Any] | None,
    seconds: float,
    rows: int,
    actor: str = "system",
    role: str = "system",
) -> None:
    """Upsert a cache entry and audit the recomputation in the same transaction."""
    session.execute(
        text(
            "INSERT INTO derived_cache (kind, params_key, inputs_key, computed_at, seconds, rows,"
            " payload) VALUES (:kind, :params, :inputs, now(), :seconds, :rows,"
            " CAST(:payload AS jsonb)) ON CONFLICT (kind, params_key) DO UPDATE SET"
            " inputs_key = EXCLUDED.inputs_key, computed_at = now(), seconds = EXCLUDED.seconds,"
            " rows = EXCLUDED.rows, payload = EXCLUDED.payload"
        ),
        {
            "kind": kind,
            "params": params,
            "inputs": inputs_key,
            "seconds": seconds,
            "rows": rows,
            "payload": None if payload is None else json.dumps(payload, ensure_ascii=False),
        },
    )
    existing = session.identity_map.get(session.identity_key(DerivedCache, (kind, params)))
    if existing is not None:
        session.expire(existing)
    record(
        session=session,
        actor=actor,
        role=role,
        action="recompute",
        entity=f"derived:{kind}",
        entity_id=params,
        data={"inputs_key": inputs_key, "seconds": round(seconds, 3), "rows": rows},
    )
    logger.info("recomputed %s (%s): %d rows in %.2f s", kind, params, rows, seconds)
