"""OSM opening hours: the subset service points use, and honest 'unknown' for the rest."""

from __future__ import annotations

from datetime import datetime

from layers.core.opening_hours import parse


def test_station_hours() -> None:
    s = parse("Mo-Fr 09:00-12:00,13:30-17:30; Sa 09:00-12:00")
    assert s is not None
    assert s.is_open(datetime(2026, 11, 2, 10, 0))  # Monday
    assert not s.is_open(datetime(2026, 11, 2, 12, 30))
    assert s.is_open(datetime(2026, 11, 7, 11, 59))  # Saturday
    assert not s.is_open(datetime(2026, 11, 8, 10, 0))  # Sunday
    assert s.hours_on(5) == ["09:00-12:00"]


def test_around_the_clock_and_overnight() -> None:
    assert parse("24/7").is_open(datetime(2026, 1, 1, 3, 0))
    night = parse("Fr-Sa 20:00-02:00")
    assert night.is_open(datetime(2026, 11, 7, 1, 0))  # Saturday 01:00, from Friday
    assert night.is_open(datetime(2026, 11, 8, 1, 30))  # Sunday 01:30, from Saturday
    assert not night.is_open(datetime(2026, 11, 6, 1, 0))  # Friday 01:00


def test_later_rules_override_and_off() -> None:
    s = parse("Mo-Su 08:00-20:00; Su off")
    assert s.is_open(datetime(2026, 11, 7, 9, 0)) and not s.is_open(datetime(2026, 11, 8, 9, 0))


def test_unsupported_is_unknown() -> None:
    assert parse("PH off") is None
    assert parse("sunrise-sunset") is None
    assert parse("") is None and parse(None) is None
