"""The public service network: catalogue, offers, appointment slots, proxy handling, documents.

- ``service_items``: the catalogue (code, owning department, where handled, bookable,
  fully online, required materials, statutory limit in working days, fee); a pg_trgm
  GIN index on ``name`` serves the Chinese substring search (``ILIKE '%…%'``).
- ``service_offers``: which service point offers which item, with how many staff
  per slot (the slot capacity).
- ``appointment_slots``: one counter row per (point, item, start), made on first
  booking; ``booked <= capacity`` is a CHECK, and bookings increment it with a
  guarded UPDATE, so the database, not Python, refuses overbooking.
- ``appointments``, ``service_outbox`` (reminders to send), ``proxy_requests`` and
  ``proxy_events`` (网下代办 and its trail), ``resident_documents`` (证照库 metadata;
  the content lives content-addressed on disk).

``person_id`` columns are plain nullable integers: they link to the base-data
centre's persons when it exists, without depending on it.

Revision ID: 0015
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDLED_AT = "ARRAY['community_station', 'street_centre', 'district_hall', 'online']::text[]"
TS = sa.DateTime(timezone=True)


def _items() -> None:
    op.create_table(
        "service_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("group_code", sa.Text(), nullable=False),
        sa.Column("group_name", sa.Text(), nullable=False),
        sa.Column("department_code", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("handled_at", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("bookable", sa.Boolean(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("materials", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("time_limit_days", sa.Integer(), nullable=False),
        sa.Column("fee_yuan", sa.Numeric(10, 2), nullable=False, server_default="0"),
        sa.CheckConstraint(f"handled_at <@ {HANDLED_AT}", name=op.f("ck_service_items_handled_at")),
        sa.CheckConstraint(
            "NOT online OR 'online' = ANY(handled_at)", name=op.f("ck_service_items_online_where")
        ),
        sa.CheckConstraint("time_limit_days > 0", name=op.f("ck_service_items_time_limit")),
        sa.CheckConstraint("fee_yuan >= 0", name=op.f("ck_service_items_fee")),
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_service_items_name_trgm ON service_items USING gin (name gin_trgm_ops)"
    )
    op.create_index("ix_service_items_group_code", "service_items", ["group_code"])
    op.create_index("ix_service_items_department_code", "service_items", ["department_code"])
    op.create_table(
        "service_offers",
        sa.Column(
            "service_point_id",
            sa.Integer(),
            sa.ForeignKey("service_points.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("service_items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.CheckConstraint("staff BETWEEN 1 AND 100", name=op.f("ck_service_offers_staff")),
    )
    op.create_index("ix_service_offers_item_id", "service_offers", ["item_id"])


def _appointments() -> None:
    op.create_table(
        "appointment_slots",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "service_point_id",
            sa.Integer(),
            sa.ForeignKey("service_points.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("service_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_appointment_slots_capacity")),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name=op.f("ck_appointment_slots_not_overbooked")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointment_slots_span")),
        sa.UniqueConstraint(
            "service_point_id",
            "item_id",
            "starts_at",
            name=op.f("uq_appointment_slots_point_item_start"),
        ),
    )
    op.create_index("ix_appointment_slots_item_id", "appointment_slots", ["item_id", "starts_at"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "slot_id",
            sa.BigInteger(),
            sa.ForeignKey("appointment_slots.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "service_point_id",
            sa.Integer(),
            sa.ForeignKey("service_points.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("service_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="booked"),
        sa.Column("access_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("contact_name", sa.Text()),
        sa.Column("contact_phone", sa.Text()),
        sa.Column("person_id", sa.Integer()),
        sa.Column("materials", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column(
            "document_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False, server_default="{}"
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'kept', 'missed')",
            name=op.f("ck_appointments_status"),
        ),
    )
    op.create_index(
        "ix_appointments_point_start", "appointments", ["service_point_id", "starts_at"]
    )
    op.create_index("ix_appointments_slot_id", "appointments", ["slot_id"])


def _proxy() -> None:
    op.create_table(
        "proxy_requests",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("service_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), nullable=False, server_default="requested"),
        sa.Column("channel", sa.Text(), nullable=False, server_default="online"),
        sa.Column("access_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "home_community_id",
            sa.Integer(),
            sa.ForeignKey("communities.id", ondelete="SET NULL"),
        ),
        sa.Column(
            "accepting_point_id",
            sa.Integer(),
            sa.ForeignKey("service_points.id", ondelete="SET NULL"),
        ),
        sa.Column("department_code", sa.Text(), nullable=False),
        sa.Column("handover", sa.Text()),
        sa.Column("result", sa.Text()),
        sa.Column(
            "document_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False, server_default="{}"
        ),
        sa.Column("contact_name", sa.Text()),
        sa.Column("contact_phone", sa.Text()),
        sa.Column("person_id", sa.Integer()),
        sa.Column("due_at", TS),
        sa.Column("deadlines", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint(
            "status IN ('requested', 'accepted', 'materials_collected', 'submitted', "
            "'decided', 'closed', 'withdrawn')",
            name=op.f("ck_proxy_requests_status"),
        ),
        sa.CheckConstraint(
            "channel IN ('online', 'walk_in')", name=op.f("ck_proxy_requests_channel")
        ),
        sa.CheckConstraint(
            "handover IS NULL OR handover IN ('pickup', 'delivery')",
            name=op.f("ck_proxy_requests_handover"),
        ),
        sa.CheckConstraint(
            "result IS NULL OR result IN ('approved', 'rejected')",
            name=op.f("ck_proxy_requests_result"),
        ),
    )
    op.create_index("ix_proxy_requests_department", "proxy_requests", ["department_code", "status"])
    op.create_index(
        "ix_proxy_requests_accepting_point_id", "proxy_requests", ["accepting_point_id"]
    )
    op.create_table(
        "proxy_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "request_id",
            sa.BigInteger(),
            sa.ForeignKey("proxy_requests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("from_status", sa.Text()),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("due_at", TS),
    )
    op.create_index("ix_proxy_events_request_id", "proxy_events", ["request_id"])


def _outbox_and_documents() -> None:
    op.create_table(
        "service_outbox",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "appointment_id",
            sa.BigInteger(),
            sa.ForeignKey("appointments.id", ondelete="CASCADE"),
        ),
        sa.Column(
            "proxy_request_id",
            sa.BigInteger(),
            sa.ForeignKey("proxy_requests.id", ondelete="CASCADE"),
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="pending"),
        sa.Column("sender", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'void')", name=op.f("ck_service_outbox_status")
        ),
    )
    op.create_index("ix_service_outbox_pending", "service_outbox", ["status", "due_at"])
    op.create_table(
        "resident_documents",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("owner_token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("consent_purpose", sa.Text(), nullable=False),
        sa.Column("consent_at", TS, nullable=False),
        sa.Column("retention_until", TS, nullable=False),
        sa.Column("person_id", sa.Integer()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deleted_at", TS),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_resident_documents_size")),
    )
    op.create_index("ix_resident_documents_owner", "resident_documents", ["owner_token_hash"])
    op.create_index("ix_resident_documents_sha256", "resident_documents", ["sha256"])


def upgrade() -> None:
    _items()
    _appointments()
    _proxy()
    _outbox_and_documents()


def downgrade() -> None:
    for table in (
        "resident_documents",
        "service_outbox",
        "proxy_events",
        "proxy_requests",
        "appointments",
        "appointment_slots",
        "service_offers",
        "service_items",
    ):
        op.drop_table(table)
