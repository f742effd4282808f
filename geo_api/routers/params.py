"""Query parameters shared by the routers: moments, code lists, the incident filter."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from layers.analytics.hotspots import CaseFilter
from layers.core.moments import check_moment

Moment = Annotated[datetime, AfterValidator(check_moment)]
"""Every datetime a route takes: offsets within ±15:59, years 1900–2199 (`layers.core.moments`)."""


def split_codes(values: list[str] | None) -> tuple[str, ...]:
    """`x=a,b&x=c` → ('a', 'b', 'c'), blanks dropped."""
    return tuple(p.strip() for v in values or [] for p in v.split(",") if p.strip())


def case_filter(
    category: list[str] | None,
    channel: list[str] | None,
    start: datetime | None,
    end: datetime | None,
) -> CaseFilter:
    """The incident filter of the hotspot and trend queries."""
    return CaseFilter(split_codes(category), split_codes(channel), start, end)
