"""The front door's answers: the landing document, the health check, the working-day calendar."""

from __future__ import annotations

from typing import Literal

from geo_api.schemas.geojson import Out


class Link(Out):
    """A link of the landing document."""

    rel: str
    href: str
    title: str


class Landing(Out):
    """The service's title and where its documentation and health check are."""

    title: str
    links: list[Link]


class Health(Out):
    """The database answers (200); 503 says `unavailable` without a version."""

    status: Literal["ok"]
    database: Literal["ok"]
    postgis: str
    replica: Literal["none", "serving", "standing_by"] = "none"
    """`serving`: read-only faces read from the replica; `standing_by`: it is down or behind,
    so they read from the primary (the reason goes to the server's log, not to callers)."""


class CalendarDay(Out):
    """A day: working or not, and whether that is `official`, an `override` or `provisional`."""

    date: str
    is_working_day: bool
    source: str
    note: str | None


class OverrideOut(Out):
    """A local override of the official calendar, with who set it and when."""

    date: str
    is_working_day: bool
    note: str | None
    updated_at: str
    updated_by: str | None
