"""Which days are working days in China: the State Council's calendar, local overrides, a fallback.

Working days are not Monday–Friday: statutory holidays close weekdays and the
make-up working days (调休) open weekends, e.g. National Day 2026 runs
1–7 October and Saturday 10 October is a working day.  The official schedule
comes from the `chinesecalendar` package (PyPI), which carries every year the
State Council has published (2004–2026 in 1.11.0; a new year's schedule is
published each November and reaches the package shortly after: upgrade the pin
in ``constraints.txt``).

Local changes (a district's own rest day, a schedule the package does not have
yet) are rows of the ``calendar_overrides`` table, which win over everything.

**Years the package does not know** are not guessed silently: they fall back to
Monday–Friday minus the holidays whose dates are fixed by the 《全国年节及纪念日放假办法》
(1 January, 1–2 May, 1–3 October) and Qingming (the solar term, which the package
computes for any year); the lunar holidays (Spring Festival, Dragon Boat,
Mid-Autumn) and that year's 调休 are unknown.  Such a day is *provisional*:
`WorkCalendar.is_provisional` says so, deadlines computed over it record
``"calendar": "provisional"``, and a warning is logged once per year.  Admins
bridge the gap by entering the published schedule as overrides.

The object is immutable and pure: the clocks (`layers.tables.clocks`) take it as an
argument, so the arithmetic never queries anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

import chinese_calendar

logger = logging.getLogger(__name__)

FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
"""(month, day) of the statutory holidays with fixed dates (2024 revision of the 办法)."""

_warned_years: set[int] = set()


@dataclass(frozen=True)
class OfficialDays:
    """The package's published schedule: holidays, 调休 working days and the years covered."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    first_year: int
    last_year: int


@lru_cache(maxsize=1)
def official_days() -> OfficialDays:
    """The schedule of the installed `chinesecalendar`, read once per process."""
    holidays = frozenset(chinese_calendar.holidays)
    return OfficialDays(
        holidays=holidays,
        workdays=frozenset(chinese_calendar.workdays),
        first_year=min(d.year for d in holidays),
        last_year=max(d.year for d in holidays),
    )


@lru_cache(maxsize=64)
def _fallback_holidays(year: int) -> frozenset[date]:
    """What is certain about a year the package does not know (see the module docstring)."""
    days = {date(year, m, d) for m, d in FIXED_HOLIDAYS}
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    days |= {d for d, name in terms if name == "清明"}
    return frozenset(days)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: overrides first, then the official schedule, else the explicit fallback."""

    overrides: Mapping[date, bool] = field(default_factory=lambda: MappingProxyType({}))
    official: OfficialDays = field(default_factory=official_days)

    def is_working_day(self, day: date) -> bool:
        """True when people work on `day` (local date, China Standard Time)."""
        override = self.overrides.get(day)
        if override is not None:
            return override
        off = self.official
        if off.first_year <= day.year <= off.last_year:
            if day in off.workdays:
                return True
            return day.weekday() < 5 and day not in off.holidays
        _warn_once(day.year)
        return day.weekday() < 5 and day not in _fallback_holidays(day.year)

    def is_provisional(self, day: date) -> bool:
        """True when `day`'s answer comes from the fallback (no override, year unknown)."""
        off = self.official
        return day not in self.overrides and not off.first_year <= day.year <= off.last_year

    def any_provisional(self, first: date, last: date) -> bool:
        """True when any day in [first, last] is provisional."""
        off = self.official
        if first.year >= off.first_year and last.year <= off.last_year:
            return False
        day = first
        while day <= last:
            if self.is_provisional(day):
                return True
            day += timedelta(days=1)
        return False

    def source(self, day: date) -> str:
        """Where `day`'s answer comes from: ``override``, ``official`` or ``provisional``."""
        if day in self.overrides:
            return "override"
        return "provisional" if self.is_provisional(day) else "official"

    def with_overrides(self, overrides: Mapping[date, bool]) -> WorkCalendar:
        """This calendar with `overrides` on top (a copy)."""
        return WorkCalendar(MappingProxyType(dict(overrides)), self.official)


def _warn_once(year: int) -> None:
    if year not in _warned_years:
        _warned_years.add(year)
        logger.warning(
            "the holiday calendar does not know %d (chinesecalendar covers %d-%d): "
            "working days of %d are provisional (fixed-date holidays only) until the package "
            "is upgraded or the year's schedule is entered as calendar overrides",
            year,
            official_days().first_year,
            official_days().last_year,
            year,
        )


STATUTORY = WorkCalendar()
"""The official calendar without local overrides (tests, the demo generator)."""
