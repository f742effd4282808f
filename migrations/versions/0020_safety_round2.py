"""Safety round 2: one person's shifts never overlap across courtyards; leaner notice indexes.

- ``courtyard_members.person_id`` (→ ``persons``): the member records of one person in
  several courtyards name the same person.  ``courtyard_shifts.person_key`` is that
  person (``p<id>``), or the member record itself (``m<id>``) when no person is linked,
  kept by triggers (on a shift's insert / member change, and on a member's person
  change); ``ex_courtyard_shifts_person_overlap`` (btree_gist: person ``=``, period
  ``&&``) refuses overlapping shifts of one person in any courtyard, whoever writes them
  and however concurrently.  The member constraint of 0014 stays (it is implied).
- The notices' unit and department indexes become partial (a notice goes to one or the
  other), so the SLA sweep's ~33,000 unit notices do not write NULL department entries.

Revision ID: 0020
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "courtyard_members",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey(
                "persons.id", ondelete="SET NULL", name="fk_courtyard_members_person_id_persons"
            ),
        ),
    )
    op.create_index("ix_courtyard_members_person_id", "courtyard_members", ["person_id"])
    op.add_column("courtyard_shifts", sa.Column("person_key", sa.Text()))
    op.execute(
        "UPDATE courtyard_shifts s SET person_key = coalesce('p' || m.person_id, 'm' || m.id) "
        "FROM courtyard_members m WHERE m.id = s.member_id"
    )
    op.alter_column("courtyard_shifts", "person_key", nullable=False)
    op.execute(
        """
        CREATE FUNCTION wangge_shift_person_key() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          SELECT coalesce('p' || m.person_id, 'm' || m.id) INTO NEW.person_key FROM courtyard_members m
            WHERE m.id = NEW.member_id;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER courtyard_shifts_person_key BEFORE INSERT OR UPDATE OF member_id "
        "ON courtyard_shifts FOR EACH ROW EXECUTE FUNCTION wangge_shift_person_key()"
    )
    op.execute(
        """
        CREATE FUNCTION wangge_member_person_key() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE courtyard_shifts s SET person_key = coalesce('p' || m.person_id, 'm' || m.id)
            FROM courtyard_members m WHERE m.id = NEW.id AND s.member_id = NEW.id;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER courtyard_members_person_key AFTER UPDATE OF person_id "
        "ON courtyard_members FOR EACH ROW WHEN (OLD.person_id IS DISTINCT FROM NEW.person_id) "
        "EXECUTE FUNCTION wangge_member_person_key()"
    )
    op.execute(
        "ALTER TABLE courtyard_shifts ADD CONSTRAINT ex_courtyard_shifts_person_overlap "
        "EXCLUDE USING gist (person_key WITH =, during WITH &&)"
    )
    for column in ("unit_id", "department_id"):
        op.drop_index(f"ix_platform_notices_{column.split('_')[0]}_at", "platform_notices")
        op.create_index(
            f"ix_platform_notices_{column.split('_')[0]}_at",
            "platform_notices",
            [column, "at"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade() -> None:
    for column in ("unit_id", "department_id"):
        op.drop_index(f"ix_platform_notices_{column.split('_')[0]}_at", "platform_notices")
        op.create_index(
            f"ix_platform_notices_{column.split('_')[0]}_at", "platform_notices", [column, "at"]
        )
    op.execute("ALTER TABLE courtyard_shifts DROP CONSTRAINT ex_courtyard_shifts_person_overlap")
    op.execute("DROP TRIGGER courtyard_members_person_key ON courtyard_members")
    op.execute("DROP FUNCTION wangge_member_person_key()")
    op.execute("DROP TRIGGER courtyard_shifts_person_key ON courtyard_shifts")
    op.execute("DROP FUNCTION wangge_shift_person_key()")
    op.drop_column("courtyard_shifts", "person_key")
    op.drop_index("ix_courtyard_members_person_id", "courtyard_members")
    op.drop_column("courtyard_members", "person_id")
