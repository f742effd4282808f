"""Cases as GeoParquet, one file per month and district: what the batch analytics read.

Why files and not the database: a Dask cluster's workers read their share of
years of cases in parallel, from disk or object storage, without a thousand
connections to the primary; a month that has closed never changes, so its file
is written once and read by every later run.  The layout is Hive-style so
dask-geopandas and any GeoParquet reader (GDAL, DuckDB) see the partitions:

    ROOT/incidents/month=2026-03/district=510108/part-0.parquet

Columns: `id`, `created_at` (UTC), `category_code`, `channel_code`, `status`,
`district` and the point `geometry` (EPSG:4326).  No personal data: reporters'
names, phones and descriptions never leave the database.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

MONTHS_SQL = text(
    "SELECT DISTINCT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS m"
    " FROM incidents ORDER BY 1"
)
MONTH_ROWS_SQL = text(
    """
    SELECT i.id, i.created_at, i.category_code, i.channel_code, i.status,
           coalesce(d.code, '0') AS district, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
    FROM incidents i
    LEFT JOIN streets s ON s.id = i.street_id
    LEFT JOIN districts d ON d.id = s.district_id
    WHERE i.created_at >= CAST(:start AS timestamptz) AND i.created_at < CAST(:end AS timestamptz)
    ORDER BY i.id
    """
)


@dataclass(frozen=True)
class ParquetExport:
    """What an export wrote: the files, their rows, and the digest of the cases it saw."""

    root: Path
    files: tuple[Path, ...]
    rows: int


def export_cases(
    *, session: Session, root: Path, report: Callable[[str], None] = lambda _m: None
) -> ParquetExport:
    """Write every case into `root/incidents/month=…/district=…/part-0.parquet`.

    The tree is rebuilt beside the old one and swapped in at the end, so a
    reader never sees half an export.
    """
    target = root / "incidents"
    building = root / "incidents.partial"
    shutil.rmtree(building, ignore_errors=True)
    files: list[Path] = []
    rows = 0
    months = list(session.execute(MONTHS_SQL).scalars())
    for number, month in enumerate(months, 1):
        start = pd.Timestamp(f"{month}-01", tz="UTC")
        end = start + pd.DateOffset(months=1)
        frame = pd.DataFrame(
            session.execute(MONTH_ROWS_SQL, {"start": start, "end": end}).mappings().all()
        )
        for district, part in frame.groupby("district", sort=True):
            files.append(_write(part, building / f"month={month}" / f"district={district}"))
        rows += len(frame)
        report(f"exported {month}: {len(frame):,} cases ({number}/{len(months)} months)")
    shutil.rmtree(target, ignore_errors=True)
    building.mkdir(parents=True, exist_ok=True)
    building.replace(target)
    moved = tuple(target / f.relative_to(building) for f in files)
    return ParquetExport(target, moved, rows)


def _write(part: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    points = shapely.points(part["lon"].to_numpy(), part["lat"].to_numpy())
    frame = gpd.GeoDataFrame(
        part.drop(columns=["lon", "lat", "district"]).reset_index(drop=True),
        geometry=points,
        crs="EPSG:4326",
    )
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    path = folder / "part-0.parquet"
    frame.to_parquet(path, index=False)
    return path
