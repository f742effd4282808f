"""The base-data centre (一标三实): standard addresses, persons, dwellings, units, sources.

Persons keep their ID number only as a keyed hash and a masked display form;
every department's statement is kept in `base_provenance`.  `pg_trgm` serves
the fuzzy address match (a GIN index on `addresses.full_text`).

Revision ID: 0016
Revises: 0012
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from layers.tables.base_classes import BASE_CLASSES
from layers.tables.sources import seed_sources

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _point() -> geoalchemy2.Geometry:
    return geoalchemy2.Geometry("POINT", srid=4326, spatial_index=False)


def _registries() -> None:
    classes = op.create_table(
        "base_classes",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_base_classes")),
    )
    op.bulk_insert(
        classes,
        [
            {"code": c, "name": n, "description": d, "position": i}
            for i, (c, n, d) in enumerate(BASE_CLASSES, 1)
        ],
    )
    sources = op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('department', 'street', 'field')", name=op.f("ck_sources_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("code", name=op.f("uq_sources_code")),
    )
    op.bulk_insert(sources, [{"code": c, "name": n, "kind": k} for c, n, k in seed_sources()])
    op.create_table(
        "road_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("road", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_aliases")),
        sa.UniqueConstraint("alias", name=op.f("uq_road_aliases_alias")),
    )
    op.create_index(op.f("ix_road_aliases_road"), "road_aliases", ["road"])
    op.create_table(
        "base_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("base_class", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_base_imports_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["base_class"],
            ["base_classes.code"],
            name=op.f("fk_base_imports_base_class_base_classes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_imports")),
        sa.UniqueConstraint(
            "source_id",
            "base_class",
            "sha256",
            name=op.f("uq_base_imports_source_id_base_class_sha256"),
        ),
    )


def _addresses() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("road", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("building_no", sa.SmallInteger(), nullable=True),
        sa.Column("unit_no", sa.SmallInteger(), nullable=True),
        sa.Column("full_text", sa.Text(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("courtyard_id", sa.Integer(), nullable=True),
        sa.Column("geom", _point(), nullable=False),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_addresses_geom_valid")),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_addresses_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_addresses_courtyard_id_courtyards"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
        sa.UniqueConstraint("full_text", name=op.f("uq_addresses_full_text")),
    )
    op.create_index("ix_addresses_geom", "addresses", ["geom"], postgresql_using="gist")
    op.create_index(op.f("ix_addresses_building_id"), "addresses", ["building_id"])
    op.create_index(op.f("ix_addresses_courtyard_id"), "addresses", ["courtyard_id"])
    op.create_index(
        "ix_addresses_components", "addresses", ["road", "number", "building_no", "unit_no"]
    )
    op.create_index(
        "ix_addresses_full_text_trgm",
        "addresses",
        ["full_text"],
        postgresql_using="gin",
        postgresql_ops={"full_text": "gin_trgm_ops"},
    )


def _dwellings_and_persons() -> None:
    op.create_table(
        "dwellings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.Text(), nullable=False),
        sa.Column("floor", sa.SmallInteger(), nullable=True),
        sa.Column("use", sa.Text(), server_default="self_occupied", nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "use IN ('self_occupied', 'rented', 'vacant', 'commercial')",
            name=op.f("ck_dwellings_use"),
        ),
        sa.CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name=op.f("ck_dwellings_area")),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["addresses.id"],
            name=op.f("fk_dwellings_address_id_addresses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dwellings")),
        sa.UniqueConstraint("address_id", "room", name=op.f("uq_dwellings_address_id_room")),
    )
    op.create_index(op.f("ix_dwellings_address_id"), "dwellings", ["address_id"])
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("id_masked", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sex", sa.String(1), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("phone_masked", sa.Text(), nullable=True),
        sa.Column("residence_type", sa.Text(), nullable=False),
        sa.Column("dwelling_id", sa.Integer(), nullable=True),
        sa.Column(
            "flags", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "residence_type IN ('registered', 'migrant', 'foreign')",
            name=op.f("ck_persons_residence"),
        ),
        sa.CheckConstraint("sex IS NULL OR sex IN ('M', 'F')", name=op.f("ck_persons_sex")),
        sa.CheckConstraint("length(id_hash) = 64", name=op.f("ck_persons_id_hash")),
        sa.ForeignKeyConstraint(
            ["dwelling_id"],
            ["dwellings.id"],
            name=op.f("fk_persons_dwelling_id_dwellings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_persons_id_hash")),
    )
    op.create_index(op.f("ix_persons_name"), "persons", ["name"])
    op.create_index(op.f("ix_persons_phone_hash"), "persons", ["phone_hash"])
    op.create_index(op.f("ix_persons_dwelling_id"), "persons", ["dwelling_id"])
    op.create_table(
        "person_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("dwelling_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('owner', 'tenant')", name=op.f("ck_person_links_kind")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_person_links_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dwelling_id"],
            ["dwellings.id"],
            name=op.f("fk_person_links_dwelling_id_dwellings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_person_links_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_links")),
        sa.UniqueConstraint(
            "person_id",
            "dwelling_id",
            "kind",
            name=op.f("uq_person_links_person_id_dwelling_id_kind"),
        ),
    )
    op.create_index(op.f("ix_person_links_person_id"), "person_links", ["person_id"])
    op.create_index(op.f("ix_person_links_dwelling_id"), "person_links", ["dwelling_id"])


def _units_and_provenance() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("class", sa.Text(), nullable=False),
        sa.Column("licence_no", sa.Text(), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("address_id", sa.Integer(), nullable=True),
        sa.Column("is_key_place", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("geom", _point(), nullable=False),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_units_geom_valid")),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["addresses.id"],
            name=op.f("fk_units_address_id_addresses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("licence_no", name=op.f("uq_units_licence_no")),
    )
    op.create_index("ix_units_geom", "units", ["geom"], postgresql_using="gist")
    op.create_index(op.f("ix_units_class"), "units", ["class"])
    op.create_index(op.f("ix_units_address_id"), "units", ["address_id"])
    op.create_table(
        "base_provenance",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_base_provenance_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["base_imports.id"],
            name=op.f("fk_base_provenance_import_id_base_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_provenance")),
    )
    op.create_index("ix_base_provenance_entity", "base_provenance", ["entity", "entity_id"])
    op.create_index(op.f("ix_base_provenance_source_id"), "base_provenance", ["source_id"])
    op.create_index(op.f("ix_base_provenance_import_id"), "base_provenance", ["import_id"])


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _registries()
    _addresses()
    _dwellings_and_persons()
    _units_and_provenance()


def downgrade() -> None:
    for table in (
        "base_provenance",
        "units",
        "person_links",
        "persons",
        "dwellings",
        "addresses",
        "base_imports",
        "road_aliases",
        "sources",
        "base_classes",
    ):
        op.drop_table(table)
