"""Eleven months of historical cases with realistic clustering and workflow trails.

Background cases follow where people live; persistent hotspots (a market, a
station square) run all year; emerging hotspots appear in the last two months
and grow — so hotspot and trend analytics have something true to find.  Each
case carries the audit trail of the states it went through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from layers.demo.counts import DemoCounts
from layers.demo.density import DensityField, points_in
from layers.demo.dwellings import Buildings
from layers.demo.hierarchy import Hierarchy
from layers.demo.names import ROADS, person_names, phone_numbers
from layers.demo.trails import CategoryInfo, case_path, target_status, trail
from layers.tables.incidents import STEP_OF_STATUS

PERIOD_DAYS = 335  # eleven months
CHANNEL_WEIGHTS = {
    "hotline_96966": 0.24,
    "hotline_12345": 0.14,
    "web_portal": 0.03,
    "resident_app": 0.09,
    "wechat": 0.08,
    "handheld": 0.19,
    "courtyard_patrol": 0.06,
    "video": 0.04,
    "station_walk_in": 0.03,
    "liaison_post": 0.02,
    "department": 0.02,
    "street_centre": 0.015,
    "petition": 0.01,
    "mediation": 0.01,
    "safety_inspection": 0.01,
    "media": 0.005,
    "other": 0.01,
}
WITH_REPORTER = {
    "hotline_96966",
    "hotline_12345",
    "web_portal",
    "resident_app",
    "wechat",
    "station_walk_in",
    "liaison_post",
    "petition",
    "mediation",
}
PHRASES = {
    "01": "附近环境脏乱，{what}，请尽快处理",
    "02": "墙面和电杆上{what}，影响市容",
    "03": "工地{what}，周边居民反映强烈",
    "04": "{what}，存在安全隐患，请紧急处置",
    "05": "路段{what}，影响通行",
    "10": "居民反映{what}，需要调解",
    "11": "发现{what}，请核查",
    "12": "居民求助：{what}",
    "13": "巡查发现{what}",
}


@dataclass
class HistoricalCases:
    """Column-wise cases (metric points) and their events."""

    columns: dict[str, list] = field(default_factory=dict)
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    l3: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    events: list[tuple] = field(default_factory=list)


def _locations(
    h: Hierarchy,
    b: Buildings,
    density: DensityField,
    n: int,
    now: datetime,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, creation times and hotspot index (-1 = background) for `n` cases."""
    kinds = rng.choice(3, size=n, p=[0.60, 0.28, 0.12])
    persistent = density.sample(8, rng)
    emerging = density.sample(4, rng)
    p_sigma = rng.uniform(100, 250, len(persistent))
    e_sigma = rng.uniform(90, 180, len(emerging))
    pts = np.zeros((n, 2))
    hot = np.full(n, -1)
    age_days = rng.uniform(0, PERIOD_DAYS, n)
    bg = kinds == 0
    weight = b.households + 1.0
    pick = rng.choice(len(b.geoms), size=int(bg.sum()), p=weight / weight.sum())
    centroids = np.array([g.centroid.coords[0] for g in b.geoms])
    pts[bg] = centroids[pick] + rng.normal(0, 25, (int(bg.sum()), 2))
    for kind, centres, sigma, offset in ((1, persistent, p_sigma, 0), (2, emerging, e_sigma, 100)):
        sel = np.flatnonzero(kinds == kind)
        which = rng.integers(0, len(centres), len(sel))
        pts[sel] = centres[which] + rng.normal(0, 1, (len(sel), 2)) * sigma[which, None]
        hot[sel] = which + offset
        if kind == 2:  # rising over the last 60 days
            age_days[sel] = 60 * (1 - np.sqrt(rng.uniform(0, 1, len(sel))))
    seconds = age_days * 86400
    local_hour = rng.choice(24, size=n, p=_hourly_profile())
    created = np.array([now - timedelta(seconds=float(s)) for s in seconds])
    created = np.array(
        [_at_hour(c, int(hr), rng) for c, hr in zip(created, local_hour, strict=True)]
    )
    return pts, created, hot


def _hourly_profile() -> np.ndarray:
    hours = np.arange(24)
    p = 0.2 + np.exp(-((hours - 10.5) ** 2) / 18) + 0.8 * np.exp(-((hours - 19) ** 2) / 8)
    return p / p.sum()


def _at_hour(ts: datetime, local_hour: int, rng: np.random.Generator) -> datetime:
    utc_hour = (local_hour - 8) % 24  # China Standard Time = UTC+8
    out = ts.replace(hour=utc_hour, minute=int(rng.integers(60)), second=int(rng.integers(60)))
    return out if out < ts else out - timedelta(days=1)


def _describe(cat: CategoryInfo, rng: np.random.Generator) -> str:
    road = ROADS[int(rng.integers(len(ROADS)))]
    phrase = PHRASES.get(cat.code[:2], "{what}").format(what=cat.name)
    return f"{road}{int(rng.integers(1, 300))}号{phrase}"


@dataclass(frozen=True)
class _Choices:
    """What every case draws from: weighted categories and channels, reporters' names."""

    categories: list[CategoryInfo]
    category_p: np.ndarray
    hotspot_category: np.ndarray
    """The category most cases of each hotspot have."""
    channels: list[str]
    channel_p: np.ndarray
    reporters: list[str]
    phones: list[str]

    @classmethod
    def draw(cls, categories: list[CategoryInfo], n: int, rng: np.random.Generator) -> _Choices:
        """Urgent categories half as likely; one category per hotspot; `n` names and phones."""
        cat_weights = np.array([0.5 if c.default_urgency == "urgent" else 1.0 for c in categories])
        hotspot_category = rng.integers(0, len(categories), 200)
        channels = list(CHANNEL_WEIGHTS)
        ch_p = np.array([CHANNEL_WEIGHTS[c] for c in channels])
        reporters = person_names(n, rng)
        phones = phone_numbers(n, rng)
        return cls(
            categories,
            cat_weights / cat_weights.sum(),
            hotspot_category,
            channels,
            ch_p / ch_p.sum(),
            reporters,
            phones,
        )

    def kind(self, hot: int, rng: np.random.Generator) -> tuple[CategoryInfo, str, str]:
        """Category, urgency and channel of a case (`hot`: its hotspot, -1 = background)."""
        if hot >= 0 and rng.random() < 0.7:
            cat = self.categories[int(self.hotspot_category[hot])]
        else:
            cat = self.categories[int(rng.choice(len(self.categories), p=self.category_p))]
        urgency = cat.default_urgency if rng.random() < 0.9 else "urgent"
        channel = self.channels[int(rng.choice(len(self.channels), p=self.channel_p))]
        return cat, urgency, channel


def _located(
    h: Hierarchy,
    b: Buildings,
    density: DensityField,
    n: int,
    now: datetime,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points, creation times, hotspots and L3 cells of `n` cases, oldest first."""
    pts, created, hot = _locations(h, b, density, n, now, rng)
    l3 = points_in(h.cells[3].geoms, pts)
    while (missing := np.flatnonzero(l3 < 0)).size:  # fell outside the district: redraw nearby
        pick = rng.choice(len(b.geoms), size=len(missing))
        pts[missing] = np.array([b.geoms[i].centroid.coords[0] for i in pick])
        l3[missing] = points_in(h.cells[3].geoms, pts[missing])
    order = np.argsort(created)
    return pts[order], created[order], hot[order], l3[order]


def _handling_level(
    case_id: int,
    status_at: list[tuple[str, datetime]],
    now: datetime,
    rng: np.random.Generator,
    events: list[tuple],
) -> str:
    """The level a case is handled at; an escalation beyond the grid is added to `events`."""
    level = "grid"
    if status_at[-1][0] in ("closed", "evaluated", "in_progress", "handled", "checking"):
        level = str(
            rng.choice(["grid", "community", "street", "district"], p=[0.72, 0.17, 0.08, 0.03])
        )
        if level != "grid":
            at = status_at[min(3, len(status_at) - 1)][1] + timedelta(minutes=5)
            events.append(
                (
                    case_id,
                    min(at, now),
                    "system",
                    "system",
                    "escalate",
                    status_at[-1][0],
                    status_at[-1][0],
                    "协调处置需要上一级",
                    {"from_level": "grid", "to_level": level},
                )
            )
    return level


def _external_id(channel: str, created: datetime, per_channel_seq: dict[str, int]) -> str | None:
    """The hotlines' own ticket number (`96966-20260101-000001`); other channels have none."""
    seq = per_channel_seq[channel] = per_channel_seq.get(channel, 0) + 1
    if channel.startswith("hotline"):
        return f"{channel.split('_')[1]}-{created:%Y%m%d}-{seq:06d}"
    return None


def make_cases(
    h: Hierarchy,
    b: Buildings,
    density: DensityField,
    categories: list[CategoryInfo],
    counts: DemoCounts,
    now: datetime,
    rng: np.random.Generator,
) -> HistoricalCases:
    """`counts.cases` cases with statuses, trails, reporters and escalation levels."""
    n = counts.cases
    pts, created, hot, l3 = _located(h, b, density, n, now, rng)
    choices = _Choices.draw(categories, n, rng)
    out = HistoricalCases(points=pts, l3=l3)
    cols = out.columns
    per_channel_seq: dict[str, int] = {}
    for i in range(n):
        cat, urgency, channel = choices.kind(int(hot[i]), rng)
        age = (now - created[i]).total_seconds() / 86400
        target = target_status(age, rng)
        if target == "self_handled":
            channel = "handheld"
        events, status_at, deadlines = trail(
            i + 1, case_path(target, rng), created[i], cat, urgency, now, rng
        )
        out.events.extend(events)
        level = _handling_level(i + 1, status_at, now, rng, out.events)
        has_reporter = channel in WITH_REPORTER and rng.random() < 0.85
        external = _external_id(channel, created[i], per_channel_seq)
        status, last_at = status_at[-1]
        running = deadlines.get(STEP_OF_STATUS.get(status, ""))
        due = datetime.fromisoformat(running["due_at"]) if running else None
        for key, value in (
            ("id", i + 1),
            ("external_id", external),
            ("category_code", cat.code),
            ("channel_code", channel),
            ("status", status),
            ("urgency", urgency),
            ("description", _describe(cat, rng)),
            ("reporter_name", choices.reporters[i] if has_reporter else None),
            ("reporter_phone", choices.phones[i] if has_reporter else None),
            ("handling_level", level),
            ("escalation_count", 0 if level == "grid" else 1),
            ("due_at", due),
            ("deadlines", deadlines),
            ("created_at", created[i]),
            ("updated_at", last_at),
            ("closed_at", last_at if status in ("closed", "evaluated", "void") else None),
            ("version", len(status_at)),
        ):
            cols.setdefault(key, []).append(value)
    return out
