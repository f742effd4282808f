"""The four clocks that time limits run on, as plain time arithmetic.

A time limit is an amount on a clock (`layers.tables.catalog.CLOCKS`); this module
turns "N on clock C from moment T" into a deadline, and says when a given share
of it has elapsed (the 80 % warning).  Local time is China Standard Time
(UTC+8, no daylight saving), where the working day is 08:00–12:00 + 14:00–18:00
on the working days of a `layers.tables.work_calendar.WorkCalendar` (China's statutory
holidays and make-up working days, plus local overrides).  The calendar is an
argument, so the arithmetic stays pure; it defaults to the official calendar
without local overrides (`STATUTORY`): callers that serve a district pass the
one loaded with its overrides.

- ``continuous``: ``amount`` minutes of wall time.
- ``working_hours``: ``amount`` minutes counted only inside working periods.
- ``working_days``: due at 18:00 on the ``amount``-th working day after the start
  day (the start day itself does not count: 次日起算).
- ``calendar_days``: due at midnight ending the ``amount``-th day after the start
  day (the start day does not count).

Fractions of a day are rounded up to whole days.  Every datetime in and out is
timezone-aware; naive datetimes are refused.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta, timezone

from layers.tables.catalog import CLOCKS
from layers.tables.work_calendar import STATUTORY, WorkCalendar

LOCAL_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time: the clock the district works by."""
WORK_PERIODS = ((time(8, 0), time(12, 0)), (time(14, 0), time(18, 0)))
"""Working periods of a working day, local time."""
DAY_END = time(18, 0)
"""When a working day ends (the deadline of a working-days limit)."""
WORKING_MINUTES_PER_DAY = 480


def _check(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("clock arithmetic needs timezone-aware datetimes")
    return moment.astimezone(LOCAL_TZ)


def is_working_day(day: date, calendar: WorkCalendar = STATUTORY) -> bool:
    """A working day of `calendar` (holidays closed, 调休 weekends open)."""
    return calendar.is_working_day(day)


def _periods(day: date, calendar: WorkCalendar) -> list[tuple[datetime, datetime]]:
    if not calendar.is_working_day(day):
        return []
    return [
        (datetime.combine(day, a, LOCAL_TZ), datetime.combine(day, b, LOCAL_TZ))
        for a, b in WORK_PERIODS
    ]


def add_working_minutes(
    start: datetime, minutes: float, calendar: WorkCalendar = STATUTORY
) -> datetime:
    """The moment `minutes` working minutes after `start` (UTC out).

    Day by day: weeks are no longer uniform once holidays count, and limits are
    at most a few weeks long, so the loop stays short.
    """
    local = _check(start)
    remaining = timedelta(minutes=max(0.0, minutes))
    day = local.date()
    while True:
        for a, b in _periods(day, calendar):
            begin = max(a, local)
            if begin >= b:
                continue
            if begin + remaining <= b:
                return (begin + remaining).astimezone(UTC)
            remaining -= b - begin
        day += timedelta(days=1)


def working_minutes_between(
    start: datetime, end: datetime, calendar: WorkCalendar = STATUTORY
) -> float:
    """Working minutes in [start, end) (0 when end <= start)."""
    a_local, b_local = _check(start), _check(end)
    if b_local <= a_local:
        return 0.0
    total = timedelta()
    day = a_local.date()
    while day <= b_local.date():
        for a, b in _periods(day, calendar):
            lo, hi = max(a, a_local), min(b, b_local)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 60.0


def _nth_working_day_after(day: date, n: int, calendar: WorkCalendar) -> date:
    while n > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def deadline(
    start: datetime, amount: float, clock: str, calendar: WorkCalendar = STATUTORY
) -> datetime:
    """When a limit of `amount` on `clock` that started at `start` runs out (UTC)."""
    local = _check(start)
    if amount <= 0:
        raise ValueError("a time limit must be positive")
    if clock == "continuous":
        return (local + timedelta(minutes=float(amount))).astimezone(UTC)
    if clock == "working_hours":
        return add_working_minutes(local, float(amount), calendar)
    if clock == "working_days":
        day = _nth_working_day_after(local.date(), math.ceil(amount), calendar)
        return datetime.combine(day, DAY_END, LOCAL_TZ).astimezone(UTC)
    if clock == "calendar_days":
        day = local.date() + timedelta(days=math.ceil(amount) + 1)
        return datetime.combine(day, time(0, 0), LOCAL_TZ).astimezone(UTC)
    raise ValueError(f"unknown clock {clock!r}; clocks are {', '.join(CLOCKS)}")


def share_elapsed_at(
    start: datetime, due: datetime, clock: str, share: float, calendar: WorkCalendar = STATUTORY
) -> datetime:
    """The moment `share` (0–1) of the limit [start, due] has run, measured on `clock`."""
    _check(start)
    _check(due)
    if clock in ("working_hours", "working_days"):
        total = working_minutes_between(start, due, calendar)
        return add_working_minutes(start, share * total, calendar)
    return (start + (due - start) * share).astimezone(UTC)


def provisional(start: datetime, due: datetime, clock: str, calendar: WorkCalendar) -> bool:
    """True when a working-time limit [start, due] crosses a day the calendar only guesses."""
    if clock not in ("working_hours", "working_days"):
        return False
    return calendar.any_provisional(_check(start).date(), _check(due).date())
