"""What the address search answers: standard addresses with their grid, no personal data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class PersonHit(BaseModel):
    """A person as staff may see them: ID number and phone masked, always."""

    id: int
    name: str
    id_masked: str
    sex: str | None = None
    birth_year: int | None = None
    phone_masked: str | None = None
    residence_type: str
    flags: dict[str, str]
    address_id: int | None = None
    full_text: str | None = None
    room: str | None = None
    l3_code: str | None = None


class PersonsOut(BaseModel):
    """The persons found (the read is audited with its purpose)."""

    results: list[PersonHit]


class CellFigure(BaseModel):
    """One live cell's households and population, counted from the records."""

    code: str
    name: str | None = None
    households: int
    population: int


class FiguresOut(BaseModel):
    """Aggregates only: record counts per class and the cells' figures at one level."""

    records: dict[str, int]
    level: int
    cells: list[CellFigure]


class ChangeOut(BaseModel):
    """A collected change (采集) as a version of its record; `after` never holds an ID hash."""

    id: int
    entity: str
    entity_id: int | None
    kind: str
    version: int
    before: dict[str, Any]
    after: dict[str, Any]
    note: str | None
    status: str
    source: str
    worker_id: int | None
    cell_code: str | None
    actor: str
    collected_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None


class ChangesOut(BaseModel):
    """Collected changes, newest first."""

    results: list[ChangeOut]


class VisitOut(BaseModel):
    """One household visit (入户走访) of a dwelling."""

    id: int
    dwelling_id: int
    worker_id: int | None
    actor: str
    visited_on: date
    checked: list[str]
    residents_seen: int | None
    note: str | None
    recorded_at: datetime


class VisitsOut(BaseModel):
    """A dwelling's visit log, newest first."""

    results: list[VisitOut]


class HereResident(BaseModel):
    """A resident as the handheld shows them: masked ID number and phone, never in clear."""

    id: int
    name: str
    id_masked: str
    phone_masked: str | None = None
    residence_type: str
    birth_year: int | None = None
    flags: dict[str, str]


class HereLink(BaseModel):
    """An owner or tenant of a dwelling (`person_links`)."""

    person_id: int
    kind: str
    name: str


class HereDwelling(BaseModel):
    """A room or flat at the address, its use, who lives there and who owns or rents it."""

    id: int
    room: str
    floor: int | None = None
    use: str
    area_m2: float | None = None
    residents: list[HereResident]
    links: list[HereLink]


class HereUnit(BaseModel):
    """A unit or place at the address; its contact's phone masked."""

    id: int
    name: str
    class_: str = Field(alias="class")
    status: str
    is_key_place: bool
    licence_no: str | None = None
    contact_name: str | None = None
    contact_phone_masked: str | None = None

    model_config = ConfigDict(populate_by_name=True)


class HereAddress(BaseModel):
    """A standard address near the worker, in their cell, with its records."""

    address_id: int
    full_text: str
    distance_m: float
    dwellings: list[HereDwelling]
    units: list[HereUnit]


class HereOut(BaseModel):
    """The records near the worker's position within their own cell (the read is audited)."""

    cell: dict[str, int | str]
    radius_m: float
    addresses: list[HereAddress]
