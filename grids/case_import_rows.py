"""Turn validated, located import rows into `incidents` and `incident_events` frames for COPY."""

from __future__ import annotations

import io
import json
from datetime import datetime

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.deadlines import limits_for, step_deadline
from grids.grid_snapshot import CellChains
from layers.frame_copy import reserve_ids
from layers.incidents import STEP_OF_STATUS
from layers.sql import quote_ident

STAGE = "wangge_import_ids"


def existing_external_ids(*, session: Session, ids: pd.Series) -> set[str]:
    """Which of `ids` are already in the database (COPY into a temp table, then join)."""
    if ids.empty:
        return set()
    conn = session.connection()
    conn.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS {quote_ident(STAGE)} (id text) ON COMMIT DROP")
    )
    conn.execute(text(f"TRUNCATE {quote_ident(STAGE)}"))
    buffer = io.StringIO("\n".join(ids.astype(str)) + "\n")
    raw = conn.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY {quote_ident(STAGE)} (id) FROM STDIN WITH (FORMAT text)", buffer)
    found = conn.execute(
        text(
            f"SELECT s.id FROM {quote_ident(STAGE)} s "  # noqa: S608 - fixed name
            "JOIN incidents i ON i.external_id = s.id"
        )
    ).scalars()
    return set(found)


def _ids(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="Int64").where(values >= 0)


def _deadlines(session: Session, rows: pd.DataFrame, now: datetime) -> tuple[list, list]:
    """Open cases start their status's step at import time; closed ones have no clock."""
    steps = rows["status"].map(STEP_OF_STATUS)
    due: list = [None] * len(rows)
    records: list = ["{}"] * len(rows)
    cache: dict[tuple[str, str, str], dict] = {}
    for i, (category, urgency, step) in enumerate(
        zip(rows["category_code"], rows["urgency"], steps, strict=True)
    ):
        if not isinstance(step, str):
            continue
        key = (category, urgency, step)
        if key not in cache:
            limits = limits_for(session=session, category_code=category, urgency=urgency)
            cache[key] = step_deadline(now, limits[step]) if step in limits else {}
        if cache[key]:
            due[i] = cache[key]["due_at"]
            records[i] = json.dumps({step: cache[key]})
    return due, records


def build_rows(
    *,
    session: Session,
    rows: pd.DataFrame,
    chains: CellChains,
    keep: np.ndarray,
    now: datetime,
    actor: str,
    source: str,
    crs: str = "wgs84",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(incidents, incident_events) frames; `keep` selects the located rows of `chains`."""
    n = len(rows)
    ids = np.array(reserve_ids(session.connection(), "incidents", n), dtype=np.int64)
    points = shapely.set_srid(shapely.points(rows["lon"].to_numpy(), rows["lat"].to_numpy()), 4326)
    l1_codes = pd.Series(chains.codes("l1")[keep])
    workers = dict(
        session.execute(
            text(
                "SELECT DISTINCT ON (cell_code) cell_code, id FROM workers "
                "WHERE level = 1 AND cell_code IS NOT NULL ORDER BY cell_code, on_duty DESC, id"
            )
        ).all()
    )
    names = dict(session.execute(text("SELECT code, name FROM categories")).all())
    due, deadlines = _deadlines(session, rows, now)
    closed_at = rows["closed_at"].where(rows["closed_at"].notna(), None)
    description = rows["description"].where(
        rows["description"] != "", rows["category_code"].map(names)
    )
    incidents = pd.DataFrame(
        {
            "id": ids,
            "external_id": rows["external_id"].to_numpy(),
            "category_code": rows["category_code"].to_numpy(),
            "channel_code": rows["channel_code"].to_numpy(),
            "status": rows["status"].to_numpy(),
            "urgency": rows["urgency"].to_numpy(),
            "description": description.to_numpy(),
            "address": rows["address"].to_numpy(),
            "geom": shapely.to_wkb(points, hex=True, include_srid=True),
            "reported_crs": crs,
            "reported_lon": rows["orig_lon"].to_numpy(),
            "reported_lat": rows["orig_lat"].to_numpy(),
            "revision_id": _ids(chains.revision_id[keep]).to_numpy(),
            "l1_cell_id": _ids(chains.ids("l1")[keep]).to_numpy(),
            "l2_cell_id": _ids(chains.ids("l2")[keep]).to_numpy(),
            "l3_cell_id": _ids(chains.ids("l3")[keep]).to_numpy(),
            "community_id": _ids(chains.ids("community")[keep]).to_numpy(),
            "street_id": _ids(chains.ids("street")[keep]).to_numpy(),
            "locate_method": chains.method_names()[keep],
            "assignee_worker_id": pd.Series(l1_codes.map(workers), dtype="Int64").to_numpy(),
            "handling_level": rows["handling_level"].to_numpy(),
            "due_at": due,
            "deadlines": deadlines,
            "created_at": rows["created_at"].to_numpy(),
            "updated_at": closed_at.fillna(rows["created_at"]).to_numpy(),
            "closed_at": closed_at.to_numpy(),
        }
    )
    events = pd.DataFrame(
        {
            "incident_id": ids,
            "at": rows["created_at"].to_numpy(),
            "actor": actor,
            "role": "system",
            "action": "import",
            "to_status": rows["status"].to_numpy(),
            "data": json.dumps({"source": source}, ensure_ascii=False),
        }
    )
    return incidents, events
