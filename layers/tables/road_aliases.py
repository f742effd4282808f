"""Old and alias names of roads (道路曾用名): a resident's 老地名 finds today's road."""

from __future__ import annotations

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class RoadAlias(Base):
    """`alias` is another (often older) name of the standard road `road`."""

    __tablename__ = "road_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    road: Mapped[str] = mapped_column(Text, nullable=False, index=True)
