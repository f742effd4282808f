"""The base-data centre: import rows/s per stage, matching quality, geocode q/s beside locate.

Against the loaded demo (`wangge demo load`, any scale): the department files
are generated from the database with their known truth
(`layers.demo.base_files`), then

1. **matching** — every police row's address through the matcher (exact →
   component → fuzzy) and, as the baseline, through a naive exact string match
   against the standard addresses (with the room); confusion counts, recall and
   precision at the level of the address and of the building;
2. **import** — the police (GB18030 CSV) and civil affairs (XLSX) files through
   `import_file`, rows/s per stage, in a transaction rolled back at the end
   (the bench leaves nothing behind);
3. **geocode** — `geocode()` in process on messy queries, q/s and p99, beside
   `locate_one()` on the same entrances (the in-memory locate), same run.

Targets (issue 13, full scale): recall ≥ 98 %, precision ≥ 99.5 %, import of
the full district ≤ 120 s, geocode ≥ 1,000 q/s with p99 ≤ 30 ms over HTTP.

    .venv/bin/python bench/bench_base_data.py [--fraction 0.2] [--queries 500]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.geocode import geocode
from grids.grid.locate import locate_one
from layers.base_data.checks import RowRejectedError, address_of, own_flat
from layers.base_data.importing import import_file
from layers.base_data.matching import AddressBook
from layers.base_data.privacy import clean_id, keyed_hash
from layers.demo.base_files import DepartmentFile, department_files
from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings


def _confusion(said: list[int | None], truth: list[int | None]) -> Counter[str]:
    out: Counter[str] = Counter()
    for s, t in zip(said, truth, strict=True):
        if s is None:
            out["fn" if t is not None else "tn"] += 1
        else:
            out["tp" if s == t else "fp"] += 1
    return out


def _print_quality(name: str, c: Counter[str]) -> None:
    recall = c["tp"] / max(c["tp"] + c["fn"] + c["fp"], 1)
    precision = c["tp"] / max(c["tp"] + c["fp"], 1)
    print(
        f"  {name:<28} tp {c['tp']:>6} fp {c['fp']:>5} fn {c['fn']:>5} tn {c['tn']:>4}"
        f"  recall {recall:7.2%}  precision {precision:7.2%}"
    )


def _match(book: AddressBook, row: list[str]) -> int | None:
    """The address the import takes for a police row (what `checks.person` does), or None."""
    id_hash = keyed_hash(clean_id(row[1]))
    try:
        found, _ = address_of(book, {"address": row[3]}, lambda c, r: own_flat(book, id_hash, c, r))
    except RowRejectedError:
        return None
    return found


def matching(session: Session, police: DepartmentFile, rows: list[list[str]]) -> None:
    """Matcher vs naive exact match, at address and building level."""
    book = AddressBook(session)
    building = dict(session.execute(text("SELECT id, building_id FROM addresses")).all())
    with_room = {
        f"{t}{room}室": a
        for a, t, room in session.execute(
            text(
                "SELECT a.id, a.full_text, w.room FROM dwellings w JOIN addresses a"
                " ON a.id = w.address_id"
            )
        ).all()
    }
    started = time.perf_counter()
    said = [_match(book, r) for r in rows]
    seconds = time.perf_counter() - started
    naive = [with_room.get(r[3]) for r in rows]
    print(f"matching {len(rows):,} police rows ({len(rows) / seconds:,.0f} rows/s):")
    _print_quality("matcher, address", _confusion(said, police.truth))
    _print_quality(
        "matcher, building",
        _confusion(
            [building.get(s) if s else None for s in said],
            [building.get(t) if t else None for t in police.truth],
        ),
    )
    _print_quality("naive exact, address", _confusion(naive, police.truth))
    kinds = Counter(k for k, s, t in zip(police.mess, said, police.truth, strict=True) if s != t)
    print(f"  misses by kind of mess: {dict(kinds)}")


def importing(session: Session, files: dict[str, DepartmentFile], now) -> None:
    """Both files through the import; rows/s per stage; rolled back."""
    for source, f in files.items():
        result = import_file(
            session=session,
            source=source,
            base_class="persons",
            name=f.name,
            data=f.data,
            actor="bench",
            role="admin",
            now=now,
            skip_rejects=True,
        )
        stages = "  ".join(
            f"{k} {result.rows / max(v, 1e-9):,.0f} rows/s" for k, v in result.stages.items()
        )
        total = sum(result.stages.values())
        print(f"import {source} ({result.encoding}, {result.rows:,} rows, {total:.2f} s): {stages}")
        print(
            f"  created {result.created:,}, merged {result.merged:,}, rejected {len(result.rejects):,}"
        )
    session.rollback()


def _rate(name: str, times: list[float]) -> float:
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    qps = len(times) / sum(times)
    print(
        f"  {name:<24} {qps:>9,.0f} q/s  p50 {times[len(times) // 2] * 1e3:6.2f} ms"
        f"  p99 {p99 * 1e3:6.2f} ms"
    )
    return qps


def geocoding(session: Session, rows: list[list[str]], queries: int) -> None:
    """geocode() on the police file's messy addresses beside locate_one() on their entrances."""
    qs = [r[3] for r in rows[:queries]]
    points = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM addresses ORDER BY id LIMIT :k"), {"k": queries}
    ).all()
    locate_one(session=session, lon=points[0][0], lat=points[0][1])  # warm the grid
    g_times, l_times = [], []
    for q in qs:
        t = time.perf_counter()
        geocode(session=session, q=q, limit=5)
        g_times.append(time.perf_counter() - t)
    for x, y in points:
        t = time.perf_counter()
        locate_one(session=session, lon=x, lat=y)
        l_times.append(time.perf_counter() - t)
    print(f"in process, one session, {len(qs):,} queries:")
    g = _rate("geocode (messy text)", g_times)
    lo = _rate("locate (baseline)", l_times)
    print(f"  ratio geocode / locate: {g / lo:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fraction", type=float, default=0.2, help="Share of persons in the files."
    )
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    with Session(engine) as session:
        demo = session.execute(
            text("SELECT data FROM audit_log WHERE action = 'demo_load' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
        from datetime import datetime

        now = datetime.fromisoformat(demo["now"])
        started = time.perf_counter()
        files = department_files(
            session.connection(), seed=demo["seed"], now_year=now.year, fraction=args.fraction
        )
        print(
            f"demo scale {demo['scale']}, seed {demo['seed']}: files made in "
            f"{time.perf_counter() - started:.1f} s"
        )
        import csv
        import io

        police = files["police"]
        rows = list(csv.reader(io.StringIO(police.data.decode("gb18030"))))[1:]
        matching(session, police, rows)
        importing(session, files, now)
        geocoding(session, rows, args.queries)
    engine.dispose()


if __name__ == "__main__":
    main()
