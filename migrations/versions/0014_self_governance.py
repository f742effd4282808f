"""Courtyard self-governance (邻里守望) and social organisations.

- `courtyard_groups`: a courtyard's self-governance group (院落自治小组), owners'
  committee, property management — at most one of each kind per courtyard.
- `courtyard_members`: the people who take turns on duty: group members, building
  and unit leaders (楼栋长、单元长, the level-3 grid workers where they exist),
  volunteers and social-organisation heads; their name and phone are personal data.
- `courtyard_shifts`: the duty rota at each courtyard's liaison post (院落连心驿站).
  One person's shifts never overlap: an exclusion constraint (btree_gist) says so in
  the database, so two concurrent bookings cannot both succeed.
- `social_organisations` with the communities (`social_organisation_communities`)
  and courtyards (`social_organisation_courtyards`) they serve.
- `enterprise_offers`: jobs, charity and services offered by the district's
  enterprises (龙潭家空间), posted at a courtyard and shown to residents.

The `courtyard_patrol` channel the patrols file cases through exists since 0002.

Revision ID: 0014
Revises: 0012
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_KINDS = "('self_governance', 'owners_committee', 'property_management')"
MEMBER_ROLES = (
    "('group_leader', 'group_member', 'building_leader', 'unit_leader', 'volunteer',"
    " 'social_org_head')"
)
OFFER_KINDS = "('job', 'charity', 'service')"


def _groups() -> None:
    op.create_table(
        "courtyard_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("courtyard_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.CheckConstraint(f"kind IN {GROUP_KINDS}", name=op.f("ck_courtyard_groups_kind")),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_courtyard_groups_courtyard_id_courtyards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtyard_groups")),
        sa.UniqueConstraint(
            "courtyard_id", "kind", name=op.f("uq_courtyard_groups_courtyard_id_kind")
        ),
    )


def _organisations() -> None:
    op.create_table(
        "social_organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column(
            "service_area",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "service_area IS NULL OR ST_IsValid(service_area)",
            name=op.f("ck_social_organisations_service_area_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_social_organisations_code")),
    )
    op.create_index(
        "ix_social_organisations_service_area",
        "social_organisations",
        ["service_area"],
        unique=False,
        postgresql_using="gist",
    )
    for target, table in (("community", "communities"), ("courtyard", "courtyards")):
        name = f"social_organisation_{table}"
        op.create_table(
            name,
            sa.Column("organisation_id", sa.Integer(), nullable=False),
            sa.Column(f"{target}_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["organisation_id"],
                ["social_organisations.id"],
                name=op.f(f"fk_{name}_organisation_id_social_organisations"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                [f"{target}_id"],
                [f"{table}.id"],
                name=op.f(f"fk_{name}_{target}_id_{table}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("organisation_id", f"{target}_id", name=op.f(f"pk_{name}")),
        )
        op.create_index(op.f(f"ix_{name}_{target}_id"), name, [f"{target}_id"], unique=False)


def _members() -> None:
    op.create_table(
        "courtyard_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("courtyard_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("unit_no", sa.SmallInteger(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"role IN {MEMBER_ROLES}", name=op.f("ck_courtyard_members_role")),
        sa.CheckConstraint(
            "role NOT IN ('building_leader', 'unit_leader') OR building_id IS NOT NULL",
            name=op.f("ck_courtyard_members_leader_building"),
        ),
        sa.CheckConstraint(
            "(role = 'unit_leader') = (unit_no IS NOT NULL)",
            name=op.f("ck_courtyard_members_unit"),
        ),
        sa.CheckConstraint(
            "unit_no IS NULL OR unit_no > 0", name=op.f("ck_courtyard_members_unit_no")
        ),
        sa.CheckConstraint(
            "(role = 'social_org_head') = (organisation_id IS NOT NULL)",
            name=op.f("ck_courtyard_members_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_courtyard_members_courtyard_id_courtyards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["courtyard_groups.id"],
            name=op.f("fk_courtyard_members_group_id_courtyard_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_courtyard_members_building_id_buildings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_courtyard_members_worker_id_workers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["social_organisations.id"],
            name=op.f("fk_courtyard_members_organisation_id_social_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtyard_members")),
    )
    op.create_index(
        op.f("ix_courtyard_members_courtyard_id"), "courtyard_members", ["courtyard_id"]
    )
    op.create_index(op.f("ix_courtyard_members_worker_id"), "courtyard_members", ["worker_id"])


def _shifts() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "courtyard_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("courtyard_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)"
            " AND lower_inc(during) AND NOT upper_inc(during)",
            name=op.f("ck_courtyard_shifts_bounds"),
        ),
        sa.CheckConstraint(
            "upper(during) - lower(during) <= interval '24 hours'",
            name=op.f("ck_courtyard_shifts_length"),
        ),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR (checked_in_at IS NOT NULL"
            " AND checked_out_at >= checked_in_at)",
            name=op.f("ck_courtyard_shifts_check_out"),
        ),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_courtyard_shifts_courtyard_id_courtyards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["courtyard_members.id"],
            name=op.f("fk_courtyard_shifts_member_id_courtyard_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtyard_shifts")),
        postgresql.ExcludeConstraint(
            (sa.column("member_id"), "="),
            (sa.column("during"), "&&"),
            using="gist",
            name="ex_courtyard_shifts_member_overlap",
        ),
    )
    op.create_index(
        "ix_courtyard_shifts_courtyard_id_during",
        "courtyard_shifts",
        ["courtyard_id", "during"],
        unique=False,
        postgresql_using="gist",
    )


def _offers() -> None:
    op.create_table(
        "enterprise_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("courtyard_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enterprise_phone", sa.String(length=32), nullable=True),
        sa.Column("available_from", sa.Date(), nullable=False),
        sa.Column("available_until", sa.Date(), nullable=True),
        sa.CheckConstraint(f"kind IN {OFFER_KINDS}", name=op.f("ck_enterprise_offers_kind")),
        sa.CheckConstraint(
            "available_until IS NULL OR available_until >= available_from",
            name=op.f("ck_enterprise_offers_period"),
        ),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_enterprise_offers_courtyard_id_courtyards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_offers")),
    )
    op.create_index(
        op.f("ix_enterprise_offers_courtyard_id"), "enterprise_offers", ["courtyard_id"]
    )


def upgrade() -> None:
    _groups()
    _organisations()
    _members()
    _shifts()
    _offers()


def downgrade() -> None:
    for table in (
        "enterprise_offers",
        "courtyard_shifts",
        "courtyard_members",
        "social_organisation_courtyards",
        "social_organisation_communities",
        "social_organisations",
        "courtyard_groups",
    ):
        op.drop_table(table)
