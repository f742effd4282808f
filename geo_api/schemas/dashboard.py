"""What the leader's dashboard reads: its charts, each a small table (`GET /dashboard/figures`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Chart(BaseModel):
    """One chart: its table (``columns``, ``rows``) is what it draws and what its CSV holds."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    kind: str = Field(description="bar, stacked, line, pie or map: how the page draws it.")
    unit: str = ""
    columns: list[str]
    rows: list[list[Any]]


class Figures(BaseModel):
    """Every chart of the dashboard, as of the app clock's ``now``."""

    now: datetime
    today_from: datetime
    month_from: datetime
    window_from: datetime = Field(description="The rates' 30-day window starts here.")
    charts: list[Chart]
