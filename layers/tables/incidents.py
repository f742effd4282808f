"""Cases (事件) and their audit trail.

An incident keeps the revision and cells it was located in, so later boundary
changes never rewrite history; `version` is the optimistic lock that keeps two
dispatchers from handling the same case twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from layers.core.case_states import OPEN_STATUSES, STATUSES, STEP_OF_STATUS
from layers.tables.base import AT_COMMIT, Base, geometry, geometry_checks

__all__ = [
    "OPEN_STATUSES",
    "STATUSES",
    "STEP_OF_STATUS",
    "Incident",
    "IncidentEvent",
    "IncidentKey",
]

HANDLING_LEVELS = ("grid", "community", "street", "district")
LOCATE_METHODS = ("covers", "nearest", "community_fallback", "street_fallback")
REPORT_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")
ASSIGNMENT_REASONS = ("responsible", "substitute", "nearest_on_duty", "none", "dispatcher")
"""Why a case has its assignee: the cell's own on-duty worker, the configured substitute of an
off-duty one, the nearest on-duty level-1 worker of the community, nobody (no cell or nobody on
duty), or a dispatcher's choice (`dispatch` with `data.worker_id`)."""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Incident(Base):
    """One reported problem, where it is, who handles it and by when."""

    __tablename__ = "incidents"
    __table_args__ = (
        *geometry_checks("incidents"),
        CheckConstraint(f"status IN {_in(STATUSES)}", name="status"),
        CheckConstraint("urgency IN ('urgent', 'normal')", name="urgency"),
        CheckConstraint(f"handling_level IN {_in(HANDLING_LEVELS)}", name="handling_level"),
        CheckConstraint(
            f"locate_method IS NULL OR locate_method IN {_in(LOCATE_METHODS)}", name="locate_method"
        ),
        CheckConstraint(f"reported_crs IN {_in(REPORT_CRS)}", name="reported_crs"),
        CheckConstraint(
            f"assignment_reason IS NULL OR assignment_reason IN {_in(ASSIGNMENT_REASONS)}",
            name="assignment_reason",
        ),
        Index("ix_incidents_status_due", "status", "due_at"),
        Index(  # the SLA sweep's warn-due cases (migration 0028)
            "ix_incidents_warn_open",
            text("wangge_step_warn_at(status, deadlines)"),
            postgresql_where=text(
                "warned_at IS NULL AND due_at IS NOT NULL"
                f" AND status IN {_in(tuple(STEP_OF_STATUS))}"
            ),
        ),
        Index("ix_incidents_category_created", "category_code", "created_at"),
        Index("ix_incidents_created", "created_at"),
        Index(  # look-up only: the uniqueness across months is incident_keys'
            "uq_incidents_external_id",
            "external_id",
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index(
            "ix_incidents_reporter_key_id",
            "reporter_key_id",
            postgresql_where=text("reporter_key_id IS NOT NULL"),
        ),
        Index(
            "uq_incidents_access_token_hash",
            "access_token_hash",
            postgresql_where=text("access_token_hash IS NOT NULL"),
        ),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a declared_attr
        """The ORM knows a case by `id` alone (globally unique through `incident_keys`),
        so `session.get(Incident, id)` keeps working on the (id, created_at) primary key."""
        return {"primary_key": [cls.__table__.c.id]}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    external_id: Mapped[str | None] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), nullable=False)
    channel_code: Mapped[str] = mapped_column(ForeignKey("channels.code"), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="reported")
    urgency: Mapped[str] = mapped_column(Text, nullable=False, server_default="normal")
    description: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    geom: Mapped[WKBElement] = mapped_column(geometry("Point"), nullable=False)
    reported_crs: Mapped[str] = mapped_column(Text, nullable=False, server_default="wgs84")
    reported_lon: Mapped[float | None] = mapped_column(Float)
    reported_lat: Mapped[float | None] = mapped_column(Float)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("grid_revisions.id"))
    l1_cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    l2_cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    l3_cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    locate_method: Mapped[str | None] = mapped_column(Text)
    assignee_worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    assignment_reason: Mapped[str | None] = mapped_column(Text)
    """Why the assignee has the case (`ASSIGNMENT_REASONS`); NULL for cases older than the rule."""
    handling_level: Mapped[str] = mapped_column(Text, nullable=False, server_default="grid")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("platform_units.id"), index=True)
    """The platform unit whose queue holds the case (责任主体唯一); set on insert by a trigger."""
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the case was put under supervision (督办), shown on every board; NULL: not."""
    escalation_count: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadlines: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=func.now()
    )
    """When the case was received: the partition key, never updated (a trigger refuses)."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    reporter_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    """The API key that reported the case (a resident key sees its own cases)."""
    access_token_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the case token handed to the reporter (Open311 `token`, case look-up)."""


class IncidentEvent(Base):
    """One step in a case's life: who did what, when, why (the audit trail)."""

    __tablename__ = "incident_events"
    __table_args__ = (
        Index("ix_incident_events_incident_at", "incident_id", "at"),
        {"postgresql_partition_by": "RANGE (at)"},
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a declared_attr
        """Known by `id` alone, like `Incident` (the table's key is (id, at))."""
        return {"primary_key": [cls.__table__.c.id]}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT), nullable=False
    )
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class IncidentKey(Base):
    """The global identity of a case, outside the monthly partitions of `incidents`.

    A partitioned table's unique keys must contain the partition key, so the id,
    the external id and the case token are unique across months here; triggers
    (migration 0032) insert, update and delete these rows with their incident,
    and every table that points at a case references `incident_keys(id)`.
    """

    __tablename__ = "incident_keys"
    __table_args__ = (
        Index(
            "uq_incident_keys_external_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index(
            "uq_incident_keys_access_token_hash",
            "access_token_hash",
            unique=True,
            postgresql_where=text("access_token_hash IS NOT NULL"),
        ),
        Index("ix_incident_keys_open_created", "created_at", postgresql_where=text("open")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    external_id: Mapped[str | None] = mapped_column(Text)
    access_token_hash: Mapped[str | None] = mapped_column(String(64))
    open: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    """Not void, closed or evaluated (migration 0033): the dispatch queue's time bound."""
