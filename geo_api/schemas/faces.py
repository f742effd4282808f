"""Answers of the residents' and grid workers' page endpoints (nearby, rating, photos, handheld)."""

from __future__ import annotations

from pydantic import BaseModel


class NearbyReportOut(BaseModel):
    """A recent report of the same kind close by: nothing personal."""

    id: int
    category: str
    category_name: str
    status: str
    created_at: str
    distance_m: float


class RatingOut(BaseModel):
    """The reporter's rating of a case (评价)."""

    incident_id: int
    score: int
    comment: str | None = None
    rated_at: str
    status: str | None = None


class PhotoOut(BaseModel):
    """One stored photo of a case and where to fetch it (and its thumbnail)."""

    sha256: str
    kind: str
    content_type: str
    width: int
    height: int
    bytes: int
    uploaded_at: str
    url: str
    thumbnail_url: str


class StoredOut(BaseModel):
    """How many positions were stored."""

    stored: int


class DutyOut(BaseModel):
    """A worker's duty after the switch."""

    worker_id: int
    on_duty: bool
