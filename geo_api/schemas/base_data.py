"""What the address search answers: standard addresses with their grid, no personal data."""

from __future__ import annotations

from pydantic import BaseModel

from geo_api.schemas.cases import LocationOut, WorkerOut


class GeocodeHit(BaseModel):
    """One standard address: how well it matched, where it is, which grid and worker serve it."""

    address_id: int
    full_text: str
    score: float
    method: str
    lon: float
    lat: float
    distance_m: float | None = None
    building: str | None = None
    courtyard: str | None = None
    courtyard_code: str | None = None
    grid: LocationOut
    worker: WorkerOut | None = None


class GeocodeOut(BaseModel):
    """Ranked hits, best first."""

    query: str
    results: list[GeocodeHit]
