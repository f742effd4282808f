"""The duty rota at the courtyards' liaison posts (院落连心驿站) and its coverage.

Each courtyard's liaison post is the courtyard itself (one post per courtyard, at
its entrance).  A shift is a half-open `tstzrange` ``[start, end)`` of at most 24 h
held by one member.  One person cannot be in two places: the exclusion constraint
``ex_courtyard_shifts_member_overlap`` (btree_gist: member ``=``, period ``&&``)
refuses an overlapping shift in the database, whoever writes it and however
concurrently; ``ex_courtyard_shifts_person_overlap`` does the same for one person's
member records in several courtyards (``person_key``, from the member's ``person_id``).

Coverage is how many hours of a window someone is on duty: the union of the
shifts' periods clipped to the window (`range_agg`), so two people on duty at
the same time count once.  One SQL statement computes it for every courtyard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSTZRANGE, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.tables.base import Base

OVERLAP_CONSTRAINT = "ex_courtyard_shifts_member_overlap"
"""The name PostgreSQL reports when a member's shifts would overlap."""
PERSON_OVERLAP_CONSTRAINT = "ex_courtyard_shifts_person_overlap"
"""… and when one person's shifts would, in any courtyard (migration 0020)."""


class CourtyardShift(Base):
    """One member on duty at one courtyard's liaison post for ``[start, end)``."""

    __tablename__ = "courtyard_shifts"
    __table_args__ = (
        CheckConstraint(
            "NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)"
            " AND lower_inc(during) AND NOT upper_inc(during)",
            name="bounds",
        ),
        CheckConstraint("upper(during) - lower(during) <= interval '24 hours'", name="length"),
        CheckConstraint(
            "checked_out_at IS NULL OR (checked_in_at IS NOT NULL"
            " AND checked_out_at >= checked_in_at)",
            name="check_out",
        ),
        ExcludeConstraint(
            ("member_id", "="), ("during", "&&"), using="gist", name=OVERLAP_CONSTRAINT
        ),
        ExcludeConstraint(
            ("person_key", "="), ("during", "&&"), using="gist", name=PERSON_OVERLAP_CONSTRAINT
        ),
        Index(
            "ix_courtyard_shifts_courtyard_id_during",
            "courtyard_id",
            "during",
            postgresql_using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courtyard_id: Mapped[int] = mapped_column(
        ForeignKey("courtyards.id", ondelete="CASCADE"), nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("courtyard_members.id", ondelete="CASCADE"), nullable=False
    )
    during: Mapped[Range[datetime]] = mapped_column(TSTZRANGE, nullable=False)
    person_key: Mapped[str] = mapped_column(Text, nullable=False, server_default=FetchedValue())
    """Who is on duty: ``p<persons.id>`` or ``m<member id>``; set by a trigger from the member."""
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


@dataclass(frozen=True)
class CourtyardCoverage:
    """A courtyard's rota over a window: hours covered, shifts, people, on duty at `now`."""

    courtyard_id: int
    code: str
    name: str
    community_code: str
    street_code: str
    is_three_nos: bool
    has_property_management: bool
    shifts: int
    people: int
    hours_covered: float
    on_duty_now: bool


COVERAGE_SQL = """
    WITH win AS (SELECT tstzrange(CAST(:start AS timestamptz), CAST(:end AS timestamptz), '[)')
                 AS r),
    cov AS (
      SELECT s.courtyard_id, range_agg(s.during * win.r) AS covered, count(*) AS shifts,
             count(DISTINCT s.member_id) AS people,
             bool_or(s.during @> CAST(:now AS timestamptz)) AS on_duty_now
      FROM courtyard_shifts s, win WHERE s.during && win.r GROUP BY s.courtyard_id)
    SELECT c.id AS courtyard_id, c.code, c.name, m.code AS community_code,
           st.code AS street_code, c.is_three_nos, c.has_property_management,
           coalesce(cov.shifts, 0) AS shifts, coalesce(cov.people, 0) AS people,
           coalesce((SELECT sum(extract(epoch FROM upper(x) - lower(x)))
                     FROM unnest(cov.covered) AS x), 0) / 3600.0 AS hours_covered,
           coalesce(cov.on_duty_now, false) AS on_duty_now
    FROM courtyards c JOIN communities m ON m.id = c.community_id
    JOIN streets st ON st.id = m.street_id
    LEFT JOIN cov ON cov.courtyard_id = c.id
    WHERE (CAST(:street AS text) IS NULL OR st.code = :street)
      AND (CAST(:community AS text) IS NULL OR m.code = :community)
      AND (CAST(:courtyard AS int) IS NULL OR c.id = :courtyard)
      AND (NOT :three_nos_only OR c.is_three_nos)
    ORDER BY c.code
"""
"""Hours covered per courtyard in ``[start, end)`` (the union of its shifts, clipped)."""


def coverage(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    now: datetime,
    street: str | None = None,
    community: str | None = None,
    courtyard_id: int | None = None,
    three_nos_only: bool = False,
) -> list[CourtyardCoverage]:
    """Every courtyard's coverage of ``[start, end)`` (filtered), by courtyard code."""
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "now": now,
        "street": street,
        "community": community,
        "courtyard": courtyard_id,
        "three_nos_only": three_nos_only,
    }
    rows = session.execute(text(COVERAGE_SQL), params).mappings()
    return [
        CourtyardCoverage(**{**r, "hours_covered": round(float(r["hours_covered"]), 3)})
        for r in rows
    ]
