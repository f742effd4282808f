"""The ids of the published collections, in the contract's order, without their definitions.

The `wangge export` help lists them; importing the registry for that would load
the table models (SQLAlchemy) on every `wangge --help`.  The registry checks at
import that its collections are exactly these.
"""

from __future__ import annotations

COLLECTION_IDS: tuple[str, ...] = (
    "streets",
    "communities",
    "grid_cells_l1",
    "grid_cells_l2",
    "grid_cells_l3",
    "courtyards",
    "buildings",
    "service_points",
    "cameras",
    "incidents",
    "addresses",
    "units",
)
