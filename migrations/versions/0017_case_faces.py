"""The case loop in the browser: residents' ratings, and a NOTIFY on every new case event.

`case_photos` lists each case's photos (the files are content-addressed under the media
directory, EXIF stripped, with thumbnails): a resident's with the report, staff's before
and after handling (处置前/处置后).  `worker_positions` is the grid workers' track (巡查轨迹): time, point, accuracy, sent in
batches by the handheld page.  `case_ratings` holds the reporter's rating (评价) of a closed case: one per case
(primary key), 1–5 with a comment.  A statement-level trigger on `incident_events`
sends ``NOTIFY wangge_case_events, '<case ids, comma-separated>'`` (``'*'`` past 500
cases) so every server can push new events to the open pages without polling: one
notification per statement, however many rows a bulk load inserts.

Revision ID: 0017
Revises: 0012
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_ratings",
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_by", sa.Text(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_case_ratings_score")),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_case_ratings_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_case_ratings")),
    )
    op.create_table(
        "case_photos",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('report', 'before', 'after')", name=op.f("ck_case_photos_kind")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_case_photos_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_photos")),
        sa.UniqueConstraint(
            "incident_id", "sha256", name=op.f("uq_case_photos_incident_id_sha256")
        ),
    )
    op.create_table(
        "worker_positions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_worker_positions_worker_id_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_positions")),
    )
    op.create_index(
        "ix_worker_positions_worker_at", "worker_positions", ["worker_id", "at"], unique=False
    )
    op.create_index(
        "ix_worker_positions_geom",
        "worker_positions",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.execute(
        """
        CREATE FUNCTION wangge_notify_case_events() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE ids text;
        BEGIN
          SELECT CASE WHEN count(DISTINCT incident_id) > 500 THEN '*'
                      ELSE string_agg(DISTINCT incident_id::text, ',') END
            INTO ids FROM new_events;
          IF ids IS NOT NULL THEN
            PERFORM pg_notify('wangge_case_events', ids);
          END IF;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER incident_events_notify AFTER INSERT ON incident_events"
        " REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT"
        " EXECUTE FUNCTION wangge_notify_case_events()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS incident_events_notify ON incident_events")
    op.execute("DROP FUNCTION IF EXISTS wangge_notify_case_events()")
    op.drop_table("worker_positions")
    op.drop_table("case_photos")
    op.drop_table("case_ratings")
