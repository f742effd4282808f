"""Write the demo's historical cases and their event trails."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection

from layers.demo.build import DemoDistrict
from layers.demo.geoms import points_wgs84
from layers.store.copy import copy_rows
from layers.store.partitions import ensure_months_if_owner

CASE_COLUMNS = (
    "id",
    "external_id",
    "category_code",
    "channel_code",
    "status",
    "urgency",
    "description",
    "reporter_name",
    "reporter_phone",
    "handling_level",
    "escalation_count",
    "due_at",
    "deadlines",
    "created_at",
    "updated_at",
    "closed_at",
    "version",
)
"""The generated columns of a case, written as the generator made them."""
LOCATED_COLUMNS = (
    "geom",
    "reported_crs",
    "reported_lon",
    "reported_lat",
    "revision_id",
    "l1_cell_id",
    "l2_cell_id",
    "l3_cell_id",
    "community_id",
    "street_id",
    "locate_method",
    "assignee_worker_id",
)
"""Where a case was reported and located, and who got it: derived here from its L3 cell."""
EVENT_COLUMNS = (
    "incident_id",
    "at",
    "actor",
    "role",
    "action",
    "from_status",
    "to_status",
    "reason",
    "data",
)


def write_cases(
    conn: Connection, demo: DemoDistrict, cell_ids: dict[int, np.ndarray]
) -> dict[str, int]:
    """Cases with the cells they were located in, then their events; row counts.

    First the monthly partitions of the months the history covers (every case
    has an event at its creation), so no row lands in the DEFAULT partitions.
    """
    moments = [event[EVENT_COLUMNS.index("at")] for event in demo.cases.events]
    if moments:
        ensure_months_if_owner(conn, min(moments), max(moments))
    n = copy_rows(conn, "incidents", (*CASE_COLUMNS, *LOCATED_COLUMNS), _case_rows(demo, cell_ids))
    m = copy_rows(conn, "incident_events", EVENT_COLUMNS, demo.cases.events)
    return {"incidents": n, "incident_events": m}


def _case_rows(demo: DemoDistrict, cell_ids: dict[int, np.ndarray]) -> list[tuple]:
    """One row a case: its generated columns, then its location up the hierarchy."""
    h, cases = demo.hierarchy, demo.cases
    l3 = cases.l3
    l2 = h.cells[3].parent[l3]
    l1 = h.cells[2].parent[l2]
    community = h.cells[1].parent[l1]
    street = h.communities.parent[community]
    geoms = points_wgs84(cases.points)
    lon = [g.x for g in geoms]
    lat = [g.y for g in geoms]
    cols = cases.columns
    rows = []
    for i in range(len(l3)):
        rows.append(
            (
                *[cols[k][i] for k in CASE_COLUMNS],
                geoms[i],
                "wgs84",
                lon[i],
                lat[i],
                1,
                int(cell_ids[1][l1[i]]),
                int(cell_ids[2][l2[i]]),
                int(cell_ids[3][l3[i]]),
                int(community[i]) + 1,
                int(street[i]) + 1,
                "covers",
                int(l1[i]) + 1,
            )
        )  # level-1 workers were written first: id = cell index + 1
    return rows
