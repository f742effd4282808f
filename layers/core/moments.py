"""The one check of a moment a caller gives: an offset PostgreSQL takes, inside a sane window.

Python accepts UTC offsets up to ±23:59, PostgreSQL's `timestamptz` only up to
±15:59, so a `+16:00` that Python parsed was a database error (a 500).  Years
1 and 9999 parse too, and then overflow the first `± timedelta` or
`astimezone`.  Every datetime that comes from outside (query parameters, OGC
`datetime`, CQL2 literals, Open311 dates, imported files) goes through
`check_moment`, so each face refuses the same moments with the same reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

MAX_OFFSET = timedelta(hours=15, minutes=59)
"""PostgreSQL's limit; real time zones stay within −12:00 … +14:00."""
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Moments outside [EARLIEST, LATEST) are refused: no case, grid or camera lives there."""


def moment_problem(moment: datetime) -> str | None:
    """Why `moment` cannot be used, or None (a naive moment is judged as UTC)."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return "has a UTC offset beyond ±15:59"
    outside = f"is outside the years {EARLIEST:%Y}–{LATEST.year - 1}"
    try:
        as_utc = moment.replace(tzinfo=None) - (offset or timedelta(0))
    except OverflowError:  # year 1 or 9999 moved past the calendar's end
        return outside
    if not (EARLIEST.replace(tzinfo=None) <= as_utc < LATEST.replace(tzinfo=None)):
        return outside
    return None


def check_moment(moment: datetime) -> datetime:
    """`moment` unchanged when usable; ValueError with the reason otherwise (pydantic-friendly)."""
    problem = moment_problem(moment)
    if problem:
        raise ValueError(f"the time {problem}")
    return moment


def parse_moment(text: str, *, default_tz: tzinfo = UTC) -> datetime:
    """An ISO 8601 / RFC 3339 date-time, checked; `default_tz` when it names no zone.

    ValueError when unreadable or refused by `check_moment`.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return check_moment(moment)
