"""Opening hours in the OpenStreetMap syntax (the subset service points use): is it open now?

Supported: `24/7`; rules separated by `;`, each `<days> <times>`, `<days> off` or
`<times>` (every day); days as `Mo`…`Su`, ranges (`Mo-Fr`, wrapping `Fr-Mo`) and
lists (`Mo,We`); times as `HH:MM-HH:MM` lists, an end past midnight spilling
into the next day.  As in OSM, a later rule replaces earlier ones on its days.
Anything else (public holidays, months, comments) is "unknown", never guessed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger(__name__)

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAY_TOKEN = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")


@dataclass(frozen=True)
class Schedule:
    """Open minute intervals per weekday (0 = Monday), each [start, end) within the day."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, when: datetime) -> bool:
        """Open at local time `when`?"""
        minute = when.hour * 60 + when.minute
        return any(a <= minute < b for a, b in self.days[when.weekday()])

    def hours_on(self, weekday: int) -> list[str]:
        """The day's intervals as `HH:MM-HH:MM` strings (empty = closed)."""
        return [
            f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in self.days[weekday]
        ]


def _days(token: str) -> list[int] | None:
    out: list[int] = []
    for part in token.split(","):
        m = _DAY_TOKEN.match(part)
        if not m:
            return None
        a = DAYS.index(m.group(1))
        b = DAYS.index(m.group(2)) if m.group(2) else a
        out.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
    return out


def _times(token: str) -> list[tuple[int, int]] | None:
    out = []
    for part in token.split(","):
        m = _TIME.match(part.strip())
        if not m:
            return None
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 24 or h2 > 48 or m1 > 59 or m2 > 59:
            return None
        out.append((h1 * 60 + m1, h2 * 60 + m2))
    return out


def parse(text: str | None) -> Schedule | None:
    """The schedule of an OSM `opening_hours` value, or None when unknown/unsupported."""
    if not text or not text.strip():
        return None
    if text.strip() == "24/7":
        return Schedule(tuple(((0, 1440),) for _ in DAYS))
    rules: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for rule in (r.strip() for r in text.split(";") if r.strip()):
        head, _, rest = rule.partition(" ")
        days = _days(head)
        if days is None:  # no day part: the times apply to every day
            days, rest = list(range(7)), rule
        rest = rest.strip()
        times = [] if rest == "off" else _times(rest)
        if times is None:
            logger.debug("unsupported opening_hours rule %r", rule)
            return None
        for d in days:
            rules[d] = list(times)
    return Schedule(_spill(rules))


def _spill(rules: dict[int, list[tuple[int, int]]]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Intervals ending after midnight continue on the next day."""
    days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for d, intervals in rules.items():
        for a, b in intervals:
            if b <= a:  # e.g. 20:00-02:00
                b += 1440
            days[d].append((a, min(b, 1440)))
            if b > 1440:
                days[(d + 1) % 7].append((0, b - 1440))
    return tuple(tuple(sorted(iv for iv in day if iv[0] < iv[1])) for day in days)
