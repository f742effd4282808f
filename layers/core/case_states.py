"""The case statuses, as plain data (no database imports), for every layer that needs them.

The map pages may not import SQLAlchemy even indirectly, so the vocabulary lives
here and `layers.tables.incidents` (the table) re-exports it.
"""

from __future__ import annotations

STATUSES = (
    "reported",
    "accepted",
    "void",
    "filed",
    "dispatched",
    "signed",
    "in_progress",
    "handled",
    "checking",
    "rework",
    "returned",
    "parked",
    "self_handled",
    "closed",
    "evaluated",
)
OPEN_STATUSES = tuple(s for s in STATUSES if s not in ("void", "closed", "evaluated"))
STEP_OF_STATUS = {
    "reported": "accept",
    "accepted": "accept",
    "filed": "dispatch",
    "returned": "dispatch",
    "dispatched": "sign",
    "signed": "handle",
    "in_progress": "handle",
    "rework": "handle",
    "handled": "check",
    "checking": "check",
    "self_handled": "check",
}
"""The timed step (`layers.tables.catalog.STEPS`) of a case per status; others stop the clock."""
