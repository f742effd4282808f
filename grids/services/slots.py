"""Appointment slots cut from a service point's opening hours, on the district's calendar.

Pure arithmetic: a point's `opening_hours` (OSM syntax, `layers.core.opening_hours`)
gives its intervals per weekday; each interval is cut into slots of
`slot_minutes` from its start (a tail shorter than a slot is not offered).  A day
is a service day when the calendar's override says it is a working day, when it
is a working day (调休 weekends included), or when it is an ordinary weekend
(stations open on Saturday mornings) — never on a statutory holiday.
Times are China Standard Time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from layers.core.opening_hours import Schedule
from layers.tables.clocks import LOCAL_TZ
from layers.tables.work_calendar import WorkCalendar


def is_service_day(day: date, calendar: WorkCalendar) -> bool:
    """May a station open on `day` at all (its opening hours decide when)?"""
    override = calendar.overrides.get(day)
    if override is not None:
        return override
    if calendar.is_working_day(day):
        return True
    return day.weekday() >= 5 and day not in calendar.official.holidays


def slots_of_day(
    day: date, schedule: Schedule, calendar: WorkCalendar, slot_minutes: int
) -> Iterator[datetime]:
    """Starts (UTC) of the slots on local `day`, earliest first."""
    if not is_service_day(day, calendar):
        return
    midnight = datetime.combine(day, datetime.min.time(), LOCAL_TZ)
    for a, b in schedule.days[day.weekday()]:
        start = a
        while start + slot_minutes <= b:
            yield (midnight + timedelta(minutes=start)).astimezone(UTC)
            start += slot_minutes


def upcoming_slots(
    *,
    schedule: Schedule,
    calendar: WorkCalendar,
    slot_minutes: int,
    now: datetime,
    days: int,
) -> Iterator[datetime]:
    """Slot starts strictly after `now`, over the next `days` local days."""
    today = now.astimezone(LOCAL_TZ).date()
    for offset in range(days + 1):
        for start in slots_of_day(today + timedelta(days=offset), schedule, calendar, slot_minutes):
            if start > now:
                yield start


def is_slot_start(
    moment: datetime, schedule: Schedule, calendar: WorkCalendar, slot_minutes: int
) -> bool:
    """Is `moment` exactly the start of one of the point's slots?"""
    local = moment.astimezone(LOCAL_TZ)
    return moment.astimezone(UTC) in set(
        slots_of_day(local.date(), schedule, calendar, slot_minutes)
    )
