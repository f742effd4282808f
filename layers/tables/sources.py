"""Who supplies base data: the 25 departments, the 14 streets, and field collection.

Every fact about a base record is kept with its source (`base_provenance`), so
two departments saying different things are both on file.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

SOURCE_KINDS = ("department", "street", "field")

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("police", "公安分局"),
    ("civil_affairs", "民政局"),
    ("housing", "住房和城乡建设局"),
    ("market", "市场监督管理局"),
    ("health", "卫生健康局"),
    ("education", "教育局"),
    ("human_resources", "人力资源和社会保障局"),
    ("veterans", "退役军人事务局"),
    ("disabled", "残疾人联合会"),
    ("emergency", "应急管理局"),
    ("fire", "消防救援大队"),
    ("urban_mgmt", "城市管理局"),
    ("ecology", "生态环境局"),
    ("planning", "规划和自然资源局"),
    ("statistics", "统计局"),
    ("tax", "税务局"),
    ("justice", "司法局"),
    ("culture", "文化体育和旅游局"),
    ("commerce", "商务局"),
    ("transport", "交通运输局"),
    ("water", "水务局"),
    ("agriculture", "农业农村局"),
    ("ethnic_religious", "民族宗教事务局"),
    ("women", "妇女联合会"),
    ("youth", "共青团区委"),
)
"""The 25 departments of the seed (codes are what `wangge base import SOURCE` takes)."""

STREET_OFFICES: tuple[str, ...] = (
    "猛追湾街道",
    "双桥子街道",
    "府青路街道",
    "驷马桥街道",
    "建设路街道",
    "万年场街道",
    "桃蹊路街道",
    "跳蹬河街道",
    "二仙桥街道",
    "双水碾街道",
    "白莲池街道",
    "保和街道",
    "青龙街道",
    "龙潭街道",
)
"""The 14 street offices (街道办事处) that supply data too; source codes `street_01`…`street_14`."""

FIELD_SOURCE = "grid_collection"
"""The source of what grid workers collect in the field."""


def seed_sources() -> list[tuple[str, str, str]]:
    """(code, name, kind) of every source the schema starts with: 25 + 14 + field collection."""
    rows = [(code, name, "department") for code, name in DEPARTMENTS]
    rows += [(f"street_{i:02d}", name, "street") for i, name in enumerate(STREET_OFFICES, 1)]
    rows.append((FIELD_SOURCE, "网格员采集", "field"))
    return rows


class Source(Base):
    """A department, a street office or the grid workers' field collection."""

    __tablename__ = "sources"
    __table_args__ = (CheckConstraint("kind IN ('department', 'street', 'field')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
