"""Turn validated, located import rows into `incidents` and `incident_events` frames for COPY."""

from __future__ import annotations

import io
import json
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import limits_for, step_deadline
from grids.cases.reference import work_calendar
from grids.grid.grid_snapshot import CellChains
from layers.store.driver import psycopg_connection, rowcount
from layers.store.ewkb import points_ewkb_hex
from layers.store.sql import quote_ident
from layers.tables.incidents import STEP_OF_STATUS

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
    with psycopg_connection(conn).cursor() as cur:
        cur.copy_expert(f"COPY {quote_ident(STAGE)} (id) FROM STDIN WITH (FORMAT text)", buffer)
    found = conn.execute(
        text(
            f"SELECT s.id FROM {quote_ident(STAGE)} s "  # noqa: S608 - fixed name
            "JOIN incident_keys i ON i.external_id = s.id"
        )
    ).scalars()
    return set(found)


def _ids(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="Int64").where(values >= 0)


def _deadlines(session: Session, rows: pd.DataFrame, now: datetime) -> tuple[list, list]:
    """Open cases start their status's step at import time; closed ones have no clock."""
    n = len(rows)
    due = np.full(n, None, dtype=object)
    records = np.full(n, "{}", dtype=object)
    steps = rows["status"].map(STEP_OF_STATUS)
    open_at = np.flatnonzero(steps.notna().to_numpy())
    if open_at.size:
        keys = pd.DataFrame(
            {
                "c": rows["category_code"].to_numpy()[open_at],
                "u": rows["urgency"].to_numpy()[open_at],
                "s": steps.to_numpy()[open_at],
            }
        )
        for (category, urgency, step), where in keys.groupby(["c", "u", "s"]).indices.items():
            limits = limits_for(session=session, category_code=category, urgency=urgency)
            if step in limits:
                record = step_deadline(now, limits[step], calendar=work_calendar(session=session))
                due[open_at[where]] = record["due_at"]
                records[open_at[where]] = json.dumps({step: record})
    return list(due), list(records)


def _stamp(values: pd.Series) -> np.ndarray:
    """ISO text of UTC timestamps (None for NaT), vectorised: pandas' CSV writer is slow at this."""
    raw = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    text_ = np.char.add(np.datetime_as_string(raw, unit="us"), "+00:00").astype(object)
    text_[np.isnat(raw)] = None
    return text_


def _in_cell_order(rows: pd.DataFrame, chains: CellChains, keep: np.ndarray):
    """Rows and their located columns, ordered by level-1 then level-3 cell."""
    cells = {name: chains.ids(name)[keep] for name in ("l1", "l2", "l3", "community", "street")}
    cells["revision"] = chains.revision_id[keep]
    cells["method"] = chains.method_names()[keep]
    cells["l1_code"] = chains.codes("l1")[keep]
    order = np.lexsort((cells["l3"], cells["l1"]))
    return rows.iloc[order].reset_index(drop=True), {k: v[order] for k, v in cells.items()}


def _located(cells: dict[str, np.ndarray], workers: dict[str, int]) -> dict[str, object]:
    """The columns the locate step decided: revision, cells, method, assignee.

    Nullable integer arrays, not `to_numpy()`: with one missing value that gives
    floats, which COPY refuses as integers ("1.0").
    """
    return {
        "revision_id": _ids(cells["revision"]).array,
        "l1_cell_id": _ids(cells["l1"]).array,
        "l2_cell_id": _ids(cells["l2"]).array,
        "l3_cell_id": _ids(cells["l3"]).array,
        "community_id": _ids(cells["community"]).array,
        "street_id": _ids(cells["street"]).array,
        "locate_method": cells["method"],
        "assignee_worker_id": pd.Series(
            pd.Series(cells["l1_code"]).map(workers), dtype="Int64"
        ).array,
    }


def build_rows(
    *,
    session: Session,
    rows: pd.DataFrame,
    chains: CellChains,
    keep: np.ndarray,
    now: datetime,
    crs: str = "wgs84",
) -> pd.DataFrame:
    """The incidents frame (ids come from the sequence during COPY); `keep` selects located rows.

    Rows are ordered by level-1 and level-3 cell before ids are given, so the
    many spatial indexes (cells, community, street, assignee, geometry) are
    filled in an order close to their own.
    """
    rows, cells = _in_cell_order(rows, chains, keep)
    workers: dict[str, int] = dict(
        session.execute(
            text(
                "SELECT DISTINCT ON (cell_code) cell_code, id FROM workers "
                "WHERE level = 1 AND cell_code IS NOT NULL ORDER BY cell_code, on_duty DESC, id"
            )
        ).all()
    )
    names: dict[str, str] = dict(session.execute(text("SELECT code, name FROM categories")).all())
    due, deadlines = _deadlines(session, rows, now)
    created = _stamp(rows["created_at"])
    closed = _stamp(rows["closed_at"])
    description = rows["description"].where(
        rows["description"] != "", rows["category_code"].map(names)
    )
    return pd.DataFrame(
        {
            "external_id": rows["external_id"].to_numpy(),
            "category_code": rows["category_code"].to_numpy(),
            "channel_code": rows["channel_code"].to_numpy(),
            "status": rows["status"].to_numpy(),
            "urgency": rows["urgency"].to_numpy(),
            "description": description.to_numpy(),
            "address": rows["address"].to_numpy(),
            "geom": points_ewkb_hex(rows["lon"].to_numpy(), rows["lat"].to_numpy()),
            "reported_crs": crs,
            "reported_lon": rows["orig_lon"].to_numpy(),
            "reported_lat": rows["orig_lat"].to_numpy(),
            **_located(cells, workers),
            "handling_level": rows["handling_level"].to_numpy(),
            "due_at": due,
            "deadlines": deadlines,
            "created_at": created,
            "updated_at": np.where(pd.isna(closed), created, closed),
            "closed_at": closed,
        }
    )


def write_import_events(*, session: Session, actor: str, source: str, since_id: int) -> int:
    """One ``import`` event per case this transaction imported (ids > `since_id`), in-server."""
    inserted = session.execute(
        text(
            "INSERT INTO incident_events (incident_id, at, actor, role, action, to_status, data) "
            "SELECT id, created_at, :actor, 'system', 'import', status, CAST(:data AS jsonb) "
            "FROM incidents WHERE id > :since AND xmin = pg_current_xact_id()::xid"
        ),
        {"actor": actor, "data": json.dumps({"source": source}), "since": since_id},
    )
    return rowcount(inserted)


FOREIGN_KEYS = {
    "category_code": ("categories", "code"),
    "channel_code": ("channels", "code"),
    "revision_id": ("grid_revisions", "id"),
    "l1_cell_id": ("grid_cells", "id"),
    "l2_cell_id": ("grid_cells", "id"),
    "l3_cell_id": ("grid_cells", "id"),
    "community_id": ("communities", "id"),
    "street_id": ("streets", "id"),
    "assignee_worker_id": ("workers", "id"),
}
"""The references of imported incidents (reporter_key_id stays NULL)."""


def references_hold(*, session: Session, incidents: pd.DataFrame) -> bool:
    """Lock the referenced tables against writers and check every reference set-wise.

    True when every distinct value of every foreign-key column exists; with the
    SHARE locks held to the end of the transaction, that stays true, so the
    per-row foreign-key triggers would find nothing more.
    """
    tables = sorted({table for table, _ in FOREIGN_KEYS.values()})
    session.execute(text(f"LOCK TABLE {', '.join(quote_ident(t) for t in tables)} IN SHARE MODE"))
    for column, (table, key) in FOREIGN_KEYS.items():
        values = pd.unique(incidents[column].dropna())
        if not len(values):
            continue
        cast = "text" if key == "code" else "bigint"
        missing = session.execute(
            text(
                f"SELECT count(*) FROM unnest(CAST(:v AS {cast}[])) AS v(x) "  # noqa: S608 - ours
                f"WHERE NOT EXISTS (SELECT 1 FROM {quote_ident(table)} t "
                f"WHERE t.{quote_ident(key)} = v.x)"
            ),
            {"v": [v.item() if hasattr(v, "item") else v for v in values]},
        ).scalar()
        if missing:
            return False
    return True
