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
from datetime import datetime
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import DateTime, Float, ForeignKey, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.audit import record
from layers.base import Base, geometry

logger = logging.getLogger(__name__)


class CameraView(Base):
    """A camera's view sector and its visible part after building occlusion (online or not)."""

    __tablename__ = "camera_views"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    inputs_key: Mapped[str] = mapped_column(Text, nullable=False)
    sector: Mapped[WKBElement] = mapped_column(geometry("Polygon"), nullable=False)
    visible: Mapped[WKBElement] = mapped_column(geometry("Geometry"), nullable=False)
    sector_area_m2: Mapped[float] = mapped_column(Float, nullable=False)
    visible_area_m2: Mapped[float] = mapped_column(Float, nullable=False)


class DerivedCache(Base):
    """One cached result of a derived layer for one parameter set (`params_key`)."""

    __tablename__ = "derived_cache"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    params_key: Mapped[str] = mapped_column(Text, primary_key=True)
    inputs_key: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    seconds: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    rows: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


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
