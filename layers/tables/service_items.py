"""The public service catalogue (`service_items`): what a resident can get done, and where.

One row per matter (事项): its owning department, where it can be handled, whether
it can be booked online (`bookable`) or is handled fully online (`online`), the
materials to bring (codes of `MATERIAL_KINDS`), the statutory time limit in
working days and the fee.  Search is by Chinese substring on `name`, served by the
pg_trgm GIN index ``ix_service_items_name_trgm`` (``ILIKE '%…%'``).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ARRAY, Boolean, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

HANDLED_AT = ("community_station", "street_centre", "district_hall", "online")
"""Where a matter can be handled: 社区服务站, 街道便民服务中心, 区政务服务大厅, 网上."""
MATERIAL_KINDS: dict[str, str] = {
    "id_card": "居民身份证复印件",
    "household_register": "户口簿",
    "photo": "近期免冠照片",
    "marriage_certificate": "结婚证",
    "birth_certificate": "出生医学证明",
    "disability_certificate": "残疾人证",
    "income_proof": "收入证明",
    "property_certificate": "不动产权证书",
    "business_licence": "营业执照",
    "application_form": "申请表",
    "medical_record": "病历或诊断证明",
    "residence_permit": "居住证",
}
"""The kinds of material a matter may require (code → Chinese name); also the 证照库's kinds."""


class ServiceItem(Base):
    """A public service matter of the catalogue."""

    __tablename__ = "service_items"
    __table_args__ = (
        Index("ix_service_items_group_code", "group_code"),
        Index("ix_service_items_department_code", "department_code"),
        Index(
            "ix_service_items_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    group_code: Mapped[str] = mapped_column(Text, nullable=False)
    group_name: Mapped[str] = mapped_column(Text, nullable=False)
    department_code: Mapped[str] = mapped_column(Text, nullable=False)
    department: Mapped[str] = mapped_column(Text, nullable=False)
    handled_at: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    bookable: Mapped[bool] = mapped_column(Boolean, nullable=False)
    online: Mapped[bool] = mapped_column(Boolean, nullable=False)
    materials: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    time_limit_days: Mapped[int] = mapped_column(Integer, nullable=False)
    fee_yuan: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
