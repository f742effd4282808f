"""The working-day calendar: official holidays and 调休, local overrides, unknown years."""

from __future__ import annotations

import logging
from datetime import date, datetime

from grids.cases.deadlines import Limit, step_deadline
from layers.tables.clocks import LOCAL_TZ, deadline
from layers.tables.work_calendar import STATUTORY, official_days


def cst(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=LOCAL_TZ)


def test_the_package_knows_2026():
    assert official_days().last_year >= 2026
    assert not STATUTORY.is_working_day(date(2026, 10, 5))  # a Monday in the National Day week
    assert STATUTORY.is_working_day(date(2026, 10, 10))  # a Saturday worked (调休)
    assert STATUTORY.source(date(2026, 10, 10)) == "official"


def test_an_override_wins_over_the_official_calendar():
    local = STATUTORY.with_overrides({date(2026, 11, 4): False, date(2026, 11, 7): True})
    assert not local.is_working_day(date(2026, 11, 4)) and local.source(date(2026, 11, 4)) == (
        "override"
    )
    # Tuesday + 1 working day skips the local rest day (Wednesday) to Thursday.
    assert deadline(cst(2026, 11, 3, 10), 1, "working_days", local) == cst(2026, 11, 5, 18)
    # Friday + 1 working day lands on the Saturday the district works.
    assert deadline(cst(2026, 11, 6, 10), 1, "working_days", local) == cst(2026, 11, 7, 18)
    assert deadline(cst(2026, 11, 6, 10), 1, "working_days") == cst(2026, 11, 9, 18)
    assert not STATUTORY.is_working_day(date(2026, 11, 7))  # the shared calendar is untouched


def test_an_unknown_year_is_provisional_and_says_so(caplog):
    year = official_days().last_year + 1
    with caplog.at_level(logging.WARNING, logger="layers.tables.work_calendar"):
        assert not STATUTORY.is_working_day(date(year, 10, 1))  # fixed by law
        assert not STATUTORY.is_working_day(date(year, 5, 2))
    assert STATUTORY.is_provisional(date(year, 3, 1))
    assert STATUTORY.source(date(year, 3, 1)) == "provisional"
    start = datetime(year, 9, 28, 10, tzinfo=LOCAL_TZ)
    record = step_deadline(start, Limit(3, "working_days"), calendar=STATUTORY)
    assert record["calendar"] == "provisional"
    known = step_deadline(cst(2026, 9, 28, 10), Limit(3, "working_days"), calendar=STATUTORY)
    assert "calendar" not in known
    continuous = step_deadline(start, Limit(30, "continuous"), calendar=STATUTORY)
    assert "calendar" not in continuous  # wall time needs no calendar
    # An override for that year is not provisional: the district has said what the day is.
    local = STATUTORY.with_overrides({date(year, 2, 1): False})
    assert local.source(date(year, 2, 1)) == "override"
