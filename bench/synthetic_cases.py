"""Synthetic cases as monthly GeoParquet files, written in chunks and kept for the next run.

Why chunks and raw Arrow: a 100 M-case run must never hold 100 M rows, and
GeoPandas' writer (shapely points, then WKB) costs ~4.6 s per million rows; a
point's WKB is a fixed 21 bytes, so it is built with NumPy and written with
pyarrow, with the GeoParquet 1.0 `geo` metadata dask-geopandas reads.  Columns
and types are those of `layers.analytics.case_parquet` (the project's export).

Deterministic: chunk k of month m draws from `default_rng([seed, m, k])`, so a
file's rows depend only on (cases, months, rows per file, seed), whichever
order or process wrote it.  A data set is kept under
`DATA_DIR/cases=N-months=M-rows=R-seed=S/` with a `done.json` written last; a
later run with the same parameters reuses it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

BBOX = (104.05, 30.62, 104.20, 30.75)
"""Chenghua's surroundings (lon/lat): the area the synthetic cases fall in."""

WKB_POINT_HEADER = np.frombuffer(b"\x01\x01\x00\x00\x00", dtype=np.uint8)
"""Little-endian WKB, geometry type 1 (Point): then x and y as float64."""


def geo_metadata() -> bytes:
    """The GeoParquet 1.0 file metadata for a WKB point column in EPSG:4326."""
    column = {
        "encoding": "WKB",
        "geometry_types": ["Point"],
        "crs": CRS.from_epsg(4326).to_json_dict(),
        "bbox": list(BBOX),
    }
    meta = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
    return json.dumps(meta).encode()


def wkb_points(xy: np.ndarray) -> pa.Array:
    """WKB points (21 bytes each) of the rows of `xy`, as one Arrow binary array."""
    n = len(xy)
    raw = np.empty((n, 21), dtype=np.uint8)
    raw[:, :5] = WKB_POINT_HEADER
    raw[:, 5:] = np.ascontiguousarray(xy, dtype="<f8").view(np.uint8).reshape(n, 16)
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw.reshape(-1))]
    )


def chunk_points(centres: np.ndarray, month: int, months: int, k: int, n: int, seed: int):
    """`n` points: 60 % uniform background, the rest around the month's active clusters."""
    rng = np.random.default_rng([seed, month, k])
    n_bg = int(n * 0.6)
    bg = rng.uniform(BBOX[:2], BBOX[2:], size=(n_bg, 2))
    active = centres[: 8 + (4 if month >= months // 2 else 0)]  # four clusters emerge mid-way
    pick = active[rng.integers(0, len(active), size=n - n_bg)]
    return np.vstack([bg, pick + rng.normal(0, 0.002, size=(n - n_bg, 2))])


def write_chunk(path: Path, first_id: int, xy: np.ndarray, month: int) -> None:
    """One file of cases: the export's columns, every case of the month at its first instant."""
    n = len(xy)
    when = pd.Timestamp("2024-01-01", tz="UTC") + pd.DateOffset(months=month)
    table = pa.table(
        {
            "id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "created_at": pa.repeat(pa.scalar(when, type=pa.timestamp("us", tz="UTC")), n),
            "category_code": pa.repeat(pa.scalar("0101"), n),
            "channel_code": pa.repeat(pa.scalar("hotline"), n),
            "status": pa.repeat(pa.scalar("closed"), n),
            "geometry": wkb_points(xy),
        }
    )
    table = table.replace_schema_metadata({b"geo": geo_metadata()})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def synthesise(
    data_dir: Path, cases: int, months: int, rows_per_file: int = 1_000_000, seed: int = 7
) -> tuple[list[Path], bool]:
    """(the files of the data set, whether they were reused), writing them if missing."""
    root = data_dir / f"cases={cases}-months={months}-rows={rows_per_file}-seed={seed}"
    done = root / "done.json"
    if done.exists():
        return [root / f for f in json.loads(done.read_text())["files"]], True
    shutil.rmtree(root, ignore_errors=True)
    centres = np.random.default_rng(seed).uniform(BBOX[:2], BBOX[2:], size=(12, 2))
    per_month = cases // months
    files: list[Path] = []
    for m in range(months):
        for k, start in enumerate(range(0, per_month, rows_per_file)):
            n = min(rows_per_file, per_month - start)
            path = root / f"month={m:03d}" / f"part-{k}.parquet"
            write_chunk(
                path, m * per_month + start, chunk_points(centres, m, months, k, n, seed), m
            )
            files.append(path)
    done.write_text(json.dumps({"files": [str(f.relative_to(root)) for f in files]}))
    return files, False
