"""Administrative areas: the district (区), its streets (街道) and communities (社区)."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry, geometry_checks


class District(Base):
    """A district with its GB/T 2260 six-digit code (成华区 = 510108)."""

    __tablename__ = "districts"
    __table_args__ = geometry_checks("districts")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    geom: Mapped[WKBElement] = mapped_column(geometry("MultiPolygon"), nullable=False)


class Street(Base):
    """A street (街道); `code` is the district code plus three digits (9 characters)."""

    __tablename__ = "streets"
    __table_args__ = geometry_checks("streets")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), nullable=False, index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("MultiPolygon"), nullable=False)


class Community(Base):
    """A community (社区); `code` is the street code plus three digits (12 characters)."""

    __tablename__ = "communities"
    __table_args__ = geometry_checks("communities")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), nullable=False, index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("MultiPolygon"), nullable=False)
