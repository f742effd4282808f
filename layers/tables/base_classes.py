"""The 9 classes of base information (一标三实 and the rest) as a registry.

Every base record names its class, so a department's file, a rejects report and
the figures of the data centre speak of the same nine classes.
"""

from __future__ import annotations

from sqlalchemy import SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

BASE_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("addresses", "标准地址", "standard addresses of building entrances and units (一标)"),
    ("persons", "实有人口", "the real population: registered, migrant and foreign residents"),
    ("dwellings", "实有房屋", "the real housing: flats and rooms with their use"),
    ("units", "实有单位", "the real units and places: companies, shops, schools, clinics, ..."),
    ("buildings", "建筑物", "building footprints (the demo's own layer)"),
    ("courtyards", "院落", "residential compounds and their management"),
    ("key_groups", "重点人群", "service flags: living-alone elderly, disabled, minors, ..."),
    ("key_places", "重点场所", "units that are key places for safety (camera targets)"),
    ("infrastructure", "城市部件", "cameras and service points (the existing layers)"),
)
"""(code, Chinese name, what it holds): the classes the demo and the import know."""


class BaseClass(Base):
    """One class of base information."""

    __tablename__ = "base_classes"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
