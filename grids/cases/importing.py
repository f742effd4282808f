"""Bulk import of historical cases: validate, locate in the grid of their day, COPY.

Input columns (names are case-insensitive; CSV needs lon/lat, GeoJSON and
GeoPackage give points): ``external_id`` and ``category`` (or
``category_code``) and ``reported_at`` (or ``created_at``) are required;
``channel`` (default ``other``), ``status`` (default ``closed``), ``urgency``
(default: the category's), ``description`` (default: the category's name),
``address``, ``handling_level`` (default ``grid``) and ``closed_at`` are optional.

A row is rejected, with its row number and a reason, for a missing or repeated
external id, unreadable coordinates or time, an unknown category / channel /
status, or a point outside the district.  Rows whose external id is already in
the database are skipped, so importing the same file twice imports nothing
the second time.  Everything is one transaction; points are located in batch
(`grids.grid.locate.point_to_cells`, in the grid valid when each case was reported)
and rows go in with PostgreSQL ``COPY``.  Each case gets one ``import`` event.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from grids.cases.fields import ADDRESS, DESCRIPTION, EXTERNAL_ID, TextRule
from grids.cases.import_months import fresh_months, month_of, write_fresh_months
from grids.cases.import_rows import (
    build_rows,
    existing_external_ids,
    references_hold,
    write_import_events,
)
from grids.grid.live_grid import hold_live_grid
from grids.grid.locate import point_to_cells
from layers.core.crs import to_wgs84
from layers.core.moments import EARLIEST, LATEST
from layers.core.roles import Role
from layers.ogc.case_files import read_case_file
from layers.store.frame_copy import copy_frame
from layers.store.partitions import PARTITIONED, create_month, may_create
from layers.store.table_indexes import rebuild_indexes, set_aside_indexes
from layers.tables.audit import record
from layers.tables.incidents import HANDLING_LEVELS, STATUSES

IMPORT_LOCK = 0x5A6E_494D  # one import at a time
Progress = Callable[[str, int], None]
"""progress(stage, rows done) — for a progress bar."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    read: int
    imported: int
    skipped_existing: int
    rejected: int
    rejects_path: Path | None
    seconds: float


def _first(frame: pd.DataFrame, *names: str) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return frame[name].astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _reject(reasons: pd.Series, mask, reason: str) -> None:
    reasons[mask & reasons.isna()] = reason


def _reject_text(reasons: pd.Series, values: pd.Series, rule: TextRule) -> None:
    """The API's rule for this field (grids.cases.fields), on the non-empty values."""
    given = values[values.notna() & (values != "")]
    for index, reason in zip(given.index, rule.reasons(given.tolist()), strict=True):
        if reason and pd.isna(reasons.at[index]):
            reasons.at[index] = reason


def _moments(values: pd.Series, now: datetime) -> tuple[pd.Series, pd.Series]:
    """Parsed UTC times and a mask of those outside what a case may carry (layers.core.moments)."""
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    latest = min(pd.Timestamp(LATEST), pd.Timestamp(now))
    outside = parsed.notna() & ((parsed < pd.Timestamp(EARLIEST)) | (parsed > latest))
    return parsed.where(~outside), outside


def _validate(
    session: Session, frame: pd.DataFrame, crs: str, now: datetime
) -> tuple[pd.DataFrame, pd.Series]:
    """Normalised columns and the reject reason of each row (NaN = fine)."""
    reasons = pd.Series(np.nan, index=frame.index, dtype=object)
    out = pd.DataFrame(index=frame.index)
    out["external_id"] = _first(frame, "external_id")
    _reject(reasons, out["external_id"] == "", "missing external_id")
    _reject_text(reasons, out["external_id"], EXTERNAL_ID)
    _reject(reasons, out["external_id"].duplicated(keep="first"), "external_id repeated in file")
    if "geometry_type" in frame.columns:
        _reject(reasons, frame["geometry_type"] != "Point", "geometry is not a point")
    out["orig_lon"], out["orig_lat"] = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    lon, lat = to_wgs84(out["orig_lon"].to_numpy(), out["orig_lat"].to_numpy(), crs)
    out["lon"], out["lat"] = np.atleast_1d(lon), np.atleast_1d(lat)
    bad_xy = ~(np.isfinite(out["lon"]) & np.isfinite(out["lat"]))
    bad_xy |= (out["lon"].abs() > 180) | (out["lat"].abs() > 90)
    _reject(reasons, bad_xy, "bad coordinates")
    out["created_at"], outside = _moments(_first(frame, "reported_at", "created_at"), now)
    _reject(reasons, outside, f"reported_at is before {EARLIEST:%Y} or after the import")
    _reject(reasons, out["created_at"].isna(), "bad reported_at")
    out["closed_at"], outside = _moments(_first(frame, "closed_at"), now)
    _reject(reasons, outside, f"closed_at is before {EARLIEST:%Y} or after the import")
    categories: dict[str, str] = dict(
        session.execute(text("SELECT code, default_urgency FROM categories")).all()
    )
    channels = set(session.execute(text("SELECT code FROM channels")).scalars())
    out["category_code"] = _first(frame, "category", "category_code")
    _reject(reasons, ~out["category_code"].isin(categories), "unknown category")
    out["channel_code"] = _first(frame, "channel", "channel_code").replace("", "other")
    _reject(reasons, ~out["channel_code"].isin(channels), "unknown channel")
    out["status"] = _first(frame, "status").replace("", "closed")
    _reject(reasons, ~out["status"].isin(STATUSES), "unknown status")
    out["urgency"] = _first(frame, "urgency")
    default_urgency = out["category_code"].map(categories)
    out["urgency"] = out["urgency"].where(out["urgency"] != "", default_urgency)
    _reject(reasons, ~out["urgency"].isin(("urgent", "normal")), "unknown urgency")
    out["handling_level"] = _first(frame, "handling_level").replace("", "grid")
    _reject(reasons, ~out["handling_level"].isin(HANDLING_LEVELS), "unknown handling_level")
    out["description"] = _first(frame, "description")
    _reject_text(reasons, out["description"], DESCRIPTION)
    out["address"] = _first(frame, "address").replace("", None)
    _reject_text(reasons, out["address"], ADDRESS)
    return out, reasons


def import_cases(
    *,
    session: Session,
    path: Path,
    crs: str = "wgs84",
    rejects_path: Path | None = None,
    actor: str = "wangge incidents import",
    tolerance_m: float | None = None,
    progress: Progress | None = None,
    now: datetime,
    rebuild_indexes: bool = False,
    scheduler: str | None = None,
) -> ImportReport:
    """Import the cases of `path` in the caller's transaction (see the module docstring).

    `rebuild_indexes` sets the secondary indexes of `incidents` aside during the
    COPY and builds them again after: a large import runs much faster, but the
    table is locked for reading and writing until the transaction ends.
    `scheduler` (local:N or a Dask address) locates a large file's points on
    Dask workers (`grids.grid.dask_locate`); the answers are the same.
    """
    started = time.perf_counter()
    note = progress or (lambda _stage, _n: None)
    now = now.astimezone(UTC)
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK})
    hold_live_grid(session=session)  # no publish swaps cells between locate and COPY
    frame = read_case_file(path)
    note("read", len(frame))
    rows, reasons = _validate(session, frame, crs, now)
    known = existing_external_ids(session=session, ids=rows["external_id"][reasons.isna()])
    skipped = int((rows["external_id"].isin(known) & reasons.isna()).sum())
    todo = rows[reasons.isna() & ~rows["external_id"].isin(known)]
    note("validated", len(frame))
    chains = point_to_cells(
        todo["lon"].to_numpy(),
        todo["lat"].to_numpy(),
        session=session,
        at=todo["created_at"],
        tolerance_m=tolerance_m,
        scheduler=scheduler,
    )
    keep = chains.method >= 0
    reasons[todo.index[~keep]] = "outside the district"
    note("located", len(todo))
    incidents = build_rows(
        session=session, rows=todo[keep], chains=chains, keep=keep, now=now, crs=crs
    )
    _write(session, incidents, actor, path.name, note, rebuild_indexes)
    report = ImportReport(
        read=len(frame),
        imported=len(incidents),
        skipped_existing=skipped,
        rejected=int(reasons.notna().sum()),
        rejects_path=_write_rejects(rejects_path, rows, reasons),
        seconds=0.0,
    )
    _audit(session, actor, path, report)
    return replace(report, seconds=round(time.perf_counter() - started, 2))


_COUNTS = ("read", "imported", "skipped_existing", "rejected")


def _audit(session: Session, actor: str, path: Path, report: ImportReport) -> None:
    """One audit entry for the whole import: the file's name and the counts."""
    record(
        session=session,
        actor=actor,
        role=Role.ADMIN,
        action="import_incidents",
        entity="incidents",
        data={"file": path.name, **{k: v for k, v in report.__dict__.items() if k in _COUNTS}},
    )
    session.flush()


def _write(
    session: Session, incidents: pd.DataFrame, actor: str, source: str, note, rebuild: bool
) -> None:
    """Write the incidents and their events (row triggers skipped where proven safe).

    Months without a partition yet are written beside and attached
    (`grids.cases.import_months`); the rest go by COPY through `incidents`.
    """
    conn = session.connection()
    fast = references_hold(session=session, incidents=incidents) and _skip_row_triggers(session)
    months = month_of(incidents["created_at"])
    fresh = months.isin(fresh_months(conn, months)).to_numpy()
    live = incidents[~fresh]
    if len(live) and may_create(conn):  # a month's partition, where only one table had it
        for month in sorted(set(months[~fresh])):
            for table in PARTITIONED:
                create_month(conn, table, month)
    since = session.execute(text("SELECT coalesce(max(id), 0) FROM incidents")).scalar_one()
    aside = set_aside_indexes(session=session, table="incidents") if rebuild and len(live) else []
    copy_frame(conn, "incidents", live)
    if aside:
        rebuild_indexes(session=session, definitions=aside)
    events = write_import_events(session=session, actor=actor, source=source, since_id=since)
    if fresh.any():
        events += write_fresh_months(
            session=session,
            incidents=incidents[fresh],
            months=months[fresh],
            actor=actor,
            source=source,
        )
    note("incidents written", len(incidents))
    note("events written", events)
    if fast:
        session.execute(text("SET LOCAL session_replication_role = DEFAULT"))


def _skip_row_triggers(session: Session) -> bool:
    """Skip the per-row foreign-key triggers for this transaction, where the role may.

    Only after `references_hold` proved every reference under SHARE locks.  A
    role that may not (not a superuser) keeps the triggers: slower, same result.
    """
    try:
        with session.begin_nested():
            session.execute(text("SET LOCAL session_replication_role = replica"))
    except DBAPIError:
        return False
    return True


def _write_rejects(path: Path | None, rows: pd.DataFrame, reasons: pd.Series) -> Path | None:
    """CSV of (row, external_id, reason); row 1 is the first data row of the file."""
    if path is None:
        return None
    bad = reasons.dropna()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "external_id", "reason"])
        for index, reason in bad.items():
            writer.writerow([int(index) + 1, _cell(rows.at[index, "external_id"]), _cell(reason)])
    return path


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: `=1+1` is written `'=1+1` (OWASP's advice)."""
    text_ = str(value).replace("\x00", "")
    return "'" + text_ if text_.startswith(_FORMULA_STARTS) else text_
