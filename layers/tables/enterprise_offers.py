"""Resources the district's enterprises offer (龙潭家空间): jobs, charity, services.

An offer is posted at a courtyard and is public: residents see it on the
resident map and through `GET /residents/offers`.  `enterprise_phone` is the
enterprise's own service line, not a person's number.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.map_types import NearbyOffer
from layers.tables.base import Base
from layers.tables.clocks import LOCAL_TZ

OFFER_KINDS = ("job", "charity", "service")


class EnterpriseOffer(Base):
    """One offer of one enterprise at one courtyard, available over a period of days."""

    __tablename__ = "enterprise_offers"
    __table_args__ = (
        CheckConstraint("kind IN ('job', 'charity', 'service')", name="kind"),
        CheckConstraint(
            "available_until IS NULL OR available_until >= available_from", name="period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courtyard_id: Mapped[int] = mapped_column(
        ForeignKey("courtyards.id", ondelete="CASCADE"), nullable=False, index=True
    )
    enterprise_name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    enterprise_phone: Mapped[str | None] = mapped_column(String(32))
    available_from: Mapped[date] = mapped_column(Date, nullable=False)
    available_until: Mapped[date | None] = mapped_column(Date)


_NEARBY_SQL = text(
    """
    WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt)
    SELECT o.id, o.kind, o.title, o.description, o.enterprise_name, o.enterprise_phone,
           o.available_until, c.name AS courtyard_name,
           ST_Distance(c.geom::geography, here.pt::geography) AS distance_m,
           ST_X(ST_PointOnSurface(c.geom)) AS lon, ST_Y(ST_PointOnSurface(c.geom)) AS lat
    FROM enterprise_offers o JOIN courtyards c ON c.id = o.courtyard_id, here
    WHERE ST_DWithin(c.geom::geography, here.pt::geography, :radius)
      AND o.available_from <= :today AND (o.available_until IS NULL OR o.available_until >= :today)
      AND (cardinality(CAST(:kinds AS text[])) = 0 OR o.kind = ANY(CAST(:kinds AS text[])))
    ORDER BY distance_m, o.id
    LIMIT :limit
    """
)


def nearby_offers(
    *,
    session: Session,
    lon: float,
    lat: float,
    radius_m: float,
    now: datetime,
    kinds: tuple[str, ...] = (),
    limit: int = 30,
) -> list[NearbyOffer]:
    """Offers available on `now`'s local day at courtyards within `radius_m`, nearest first."""
    rows = session.execute(
        _NEARBY_SQL,
        {
            "lon": lon,
            "lat": lat,
            "radius": radius_m,
            "today": now.astimezone(LOCAL_TZ).date(),
            "kinds": list(kinds),
            "limit": limit,
        },
    ).mappings()
    return [NearbyOffer(**r) for r in rows]
