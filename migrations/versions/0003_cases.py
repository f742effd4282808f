"""Cases: idempotency keys of intake, reporter key and case token on incidents.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("reporter_key_id", sa.Integer(), nullable=True))
    op.add_column("incidents", sa.Column("access_token_hash", sa.String(length=64), nullable=True))
    op.create_foreign_key(
        op.f("fk_incidents_reporter_key_id_api_keys"),
        "incidents",
        "api_keys",
        ["reporter_key_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_incidents_reporter_key_id",
        "incidents",
        ["reporter_key_id"],
        unique=False,
        postgresql_where=sa.text("reporter_key_id IS NOT NULL"),
    )
    op.create_index(
        "uq_incidents_access_token_hash",
        "incidents",
        ["access_token_hash"],
        unique=True,
        postgresql_where=sa.text("access_token_hash IS NOT NULL"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("case_token", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_idempotency_keys_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_incident_id"), "idempotency_keys", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_incident_id"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index(
        "uq_incidents_access_token_hash",
        table_name="incidents",
        postgresql_where=sa.text("access_token_hash IS NOT NULL"),
    )
    op.drop_index(
        "ix_incidents_reporter_key_id",
        table_name="incidents",
        postgresql_where=sa.text("reporter_key_id IS NOT NULL"),
    )
    op.drop_constraint(
        op.f("fk_incidents_reporter_key_id_api_keys"), "incidents", type_="foreignkey"
    )
    op.drop_column("incidents", "access_token_hash")
    op.drop_column("incidents", "reporter_key_id")
