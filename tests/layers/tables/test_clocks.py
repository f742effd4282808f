"""The four clocks of time limits (China Standard Time, working periods 8–12 and 14–18)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from layers.tables.clocks import (
    LOCAL_TZ,
    add_working_minutes,
    deadline,
    share_elapsed_at,
    working_minutes_between,
)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, local time (2 Nov is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ)


def test_continuous_counts_wall_minutes():
    assert deadline(local(7, 23, 50), 30, "continuous") == local(8, 0, 20)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (local(2, 9), 60, local(2, 10)),  # inside the morning
        (local(2, 11, 30), 60, local(2, 14, 30)),  # over lunch
        (local(2, 17), 120, local(3, 9)),  # over the night
        (local(6, 17), 120, local(9, 9)),  # Friday evening to Monday
        (local(7, 10), 30, local(9, 8, 30)),  # reported on a Saturday
        (local(2, 12, 30), 240, local(2, 18)),  # exactly the afternoon
        (local(2, 8), 5 * 480, local(6, 18)),  # a whole working week ends on Friday
        (local(2, 8), 12 * 480 + 60, local(18, 9)),  # long limits skip whole weeks
    ],
)
def test_working_hours(start, minutes, due):
    assert deadline(start, minutes, "working_hours") == due
    assert add_working_minutes(start, minutes) == due


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (local(2, 10), 1, local(3, 18)),  # Monday → Tuesday evening
        (local(6, 10), 1, local(9, 18)),  # Friday → Monday evening
        (local(7, 10), 1, local(9, 18)),  # Saturday → Monday evening
        (local(2, 10), 5, local(9, 18)),
        (local(2, 10), 0.5, local(3, 18)),  # part days round up
    ],
)
def test_working_days_end_of_the_nth_following_working_day(start, days, due):
    assert deadline(start, days, "working_days") == due


def test_calendar_days_end_at_midnight():
    assert deadline(local(6, 10), 3, "calendar_days") == local(10, 0)
    assert deadline(local(6, 23, 59), 1, "calendar_days") == local(8, 0)


def test_deadlines_are_utc_and_inputs_must_be_aware():
    due = deadline(datetime(2026, 11, 2, 1, 0, tzinfo=UTC), 60, "working_hours")
    assert due.tzinfo == UTC and due == local(2, 10)
    with pytest.raises(ValueError, match="timezone"):
        deadline(datetime(2026, 11, 2, 9), 10, "continuous")
    with pytest.raises(ValueError, match="unknown clock"):
        deadline(local(2, 9), 10, "lunar")
    with pytest.raises(ValueError, match="positive"):
        deadline(local(2, 9), 0, "continuous")


def test_working_minutes_between():
    assert working_minutes_between(local(2, 11), local(2, 15)) == 120
    assert working_minutes_between(local(6, 17), local(9, 9)) == 120
    assert working_minutes_between(local(3, 9), local(2, 9)) == 0


def test_eighty_percent_on_each_clock():
    start = local(2, 11)
    due = deadline(start, 240, "working_hours")  # 11–12, 14–17
    assert share_elapsed_at(start, due, "working_hours", 0.8) == local(2, 16, 12)
    due = deadline(start, 100, "continuous")
    assert share_elapsed_at(start, due, "continuous", 0.8) == start + timedelta(minutes=80)
    due = deadline(start, 2, "calendar_days")  # midnight ending Wednesday: 61 h
    assert share_elapsed_at(start, due, "calendar_days", 0.5) == start + timedelta(hours=30.5)
    due = deadline(start, 1, "working_days")  # Tuesday 18:00: 1 + 4 + 8 working hours
    warn = share_elapsed_at(start, due, "working_days", 0.8)
    assert working_minutes_between(start, warn) == pytest.approx(0.8 * 780)


def cst(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A local (China Standard Time) moment of any date."""
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def test_national_day_2026_follows_the_official_calendar():
    # 1–7 October are holidays, Saturday 10 October is a make-up working day (调休):
    # 3 working days from Wednesday 30 September end on 8, 9 and 10 October.
    assert deadline(cst(9, 30, 10), 3, "working_days") == cst(10, 10, 18)
    assert deadline(cst(9, 30, 10), 1, "working_days") == cst(10, 8, 18)


def test_a_make_up_saturday_is_a_working_day():
    # Friday 9 October 17:00 + 2 working hours: one hour on Friday, one on Saturday the 10th.
    assert deadline(cst(10, 9, 17), 120, "working_hours") == cst(10, 10, 9)
    assert working_minutes_between(cst(10, 10, 0), cst(10, 11, 0)) == 480
    # Sunday 20 September 2026 is the other make-up day of the autumn holidays.
    assert deadline(cst(9, 19, 10), 1, "working_days") == cst(9, 20, 18)


def test_holidays_stop_the_working_hours_clock():
    # Spring Festival 2026: 15–23 February off, Saturday 28 February worked.
    assert deadline(cst(2, 13, 17), 120, "working_hours") == cst(2, 14, 9)  # Sat 14th: 调休
    assert deadline(cst(2, 14, 17), 120, "working_hours") == cst(2, 24, 9)
    warn = share_elapsed_at(cst(2, 14, 17), cst(2, 24, 9), "working_hours", 0.5)
    assert warn == cst(2, 14, 18)
