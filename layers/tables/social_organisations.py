"""Registered social organisations, the areas and courtyards they serve, and their density.

An organisation serves the communities it is linked to and every community its
`service_area` polygon reaches into (interiors meet: a shared edge is not
service).  The seed measures the sector by organisations per 10,000 residents
(national average 7); `density` computes it per community and per street in one
query, counting an organisation once in each area it serves.  The contact's
name and phone are personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.errors import InvalidInputError
from layers.tables.base import Base, geometry

NATIONAL_AVERAGE = 7.0
"""Social organisations per 10,000 residents, China's average the seed compares with."""

organisation_communities = Table(
    "social_organisation_communities",
    Base.metadata,
    Column(
        "organisation_id",
        ForeignKey("social_organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "community_id",
        ForeignKey("communities.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
"""The communities an organisation serves by registration (besides its polygon)."""

organisation_courtyards = Table(
    "social_organisation_courtyards",
    Base.metadata,
    Column(
        "organisation_id",
        ForeignKey("social_organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "courtyard_id",
        ForeignKey("courtyards.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
"""The courtyards an organisation has been brought into (引入院落)."""


class SocialOrganisation(Base):
    """A registered social organisation: fields of work, contact, service area."""

    __tablename__ = "social_organisations"
    __table_args__ = (
        CheckConstraint(
            "service_area IS NULL OR ST_IsValid(service_area)", name="service_area_valid"
        ),
        Index("ix_social_organisations_service_area", "service_area", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    registered_on: Mapped[date | None] = mapped_column(Date)
    service_area: Mapped[WKBElement | None] = mapped_column(geometry("MultiPolygon"))


@dataclass(frozen=True)
class AreaDensity:
    """Organisations serving an area per 10,000 of its residents (None without residents)."""

    code: str
    name: str
    residents: int
    organisations: int
    per_10k: float | None
    below_average: bool


_SERVED = """
    pop AS (SELECT community_id, sum(population)::bigint AS residents
            FROM buildings GROUP BY community_id),
    served AS (
      SELECT l.community_id, l.organisation_id FROM social_organisation_communities l
      UNION
      SELECT m.id, o.id FROM social_organisations o JOIN communities m
        ON o.service_area IS NOT NULL AND ST_Intersects(o.service_area, m.geom)
       AND ST_Relate(o.service_area, m.geom, 'T********'))
"""
_DENSITY_SQL = {
    "community": f"""
        WITH {_SERVED}
        SELECT m.code, m.name, coalesce(p.residents, 0) AS residents,
               count(DISTINCT sv.organisation_id) AS organisations
        FROM communities m LEFT JOIN pop p ON p.community_id = m.id
        LEFT JOIN served sv ON sv.community_id = m.id
        GROUP BY m.id, m.code, m.name, p.residents ORDER BY m.code""",  # noqa: S608 - constant fragments
    "street": f"""
        WITH {_SERVED}
        SELECT s.code, s.name,
               (SELECT coalesce(sum(p.residents), 0) FROM pop p JOIN communities c
                  ON c.id = p.community_id WHERE c.street_id = s.id) AS residents,
               count(DISTINCT sv.organisation_id) AS organisations
        FROM streets s LEFT JOIN communities m ON m.street_id = s.id
        LEFT JOIN served sv ON sv.community_id = m.id
        GROUP BY s.id, s.code, s.name ORDER BY s.code""",  # noqa: S608 - constant fragments
}


def density(*, session: Session, level: str) -> list[AreaDensity]:
    """Organisations per 10,000 residents of every community or street, by code."""
    sql = _DENSITY_SQL.get(level)
    if sql is None:
        raise InvalidInputError(
            "level must be community or street", code="invalid_level", allowed=list(_DENSITY_SQL)
        )
    out = []
    for r in session.execute(text(sql)):
        residents = int(r.residents)  # a street's is a numeric sum
        per = round(r.organisations * 10_000 / residents, 2) if residents else None
        out.append(
            AreaDensity(
                r.code,
                r.name,
                residents,
                int(r.organisations),
                per,
                per is not None and per < NATIONAL_AVERAGE,
            )
        )
    return out
