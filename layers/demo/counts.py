"""How many of everything the demo makes at a given scale (scale 1 = the published seed)."""

from __future__ import annotations

from dataclasses import dataclass

SEED_FIGURES = {
    "streets": 14,
    "communities": 110,
    "courtyards": 1152,
    "l1": 1794,
    "l2": 2900,
    "l3": 17000,
    "households": 350_000,
    "residents": 940_800,
    "cameras": 5200,
    "cases": 30_000,
}
"""Chenghua's published figures (2017) the demo reproduces at scale 1."""


@dataclass(frozen=True)
class DemoCounts:
    """Target counts; streets and communities are the real frame and do not scale."""

    scale: float
    streets: int
    communities: int
    courtyards: int
    l1: int
    l2: int
    l3: int
    households: int
    residents: int
    cameras: int
    cases: int

    @property
    def samples(self) -> int:
        """Population sample points: enough to balance every level-3 cell."""
        return max(60_000, 24 * self.l3)


def counts_for(scale: float) -> DemoCounts:
    """Counts at `scale`: proportional, with one child per parent at least."""
    if not 0 < scale <= 1:
        raise ValueError("scale must be in (0, 1]")

    def scaled(key: str) -> int:
        return max(1, round(SEED_FIGURES[key] * scale))

    communities = SEED_FIGURES["communities"]
    l1 = max(communities, scaled("l1"))
    l2 = max(l1, scaled("l2"))
    l3 = max(l2, scaled("l3"))
    return DemoCounts(
        scale=scale,
        streets=SEED_FIGURES["streets"],
        communities=communities,
        courtyards=scaled("courtyards"),
        l1=l1,
        l2=l2,
        l3=l3,
        households=scaled("households"),
        residents=scaled("residents"),
        cameras=scaled("cameras"),
        cases=scaled("cases"),
    )
