"""Push latency from commit to open boards: N boards on `GET /board/stream`, intake at a fixed rate.

N dispatcher boards (raw HTTP/1.1 streams in a child process, so the load generator
does not share their CPU) follow the board stream while residents file cases at a
fixed offered rate (`POST /incidents`, open loop).  For every case each board must
see its ``report`` event: latency = the board's receive time − the event's ``at``
(the server's clock in the intake transaction, just before its commit; one machine,
one clock).  Every case a board never saw counts as missed.  Baseline in the same run:
the same intake with one board.  Each round files cases of its own category: the
intake's duplicate search looks at the same category's cases of the last 24 h, so a
second round in the first one's category paid for the first round's 6,000 cases
(database CPU per request 1 ms → 12 ms) and measured that, not the boards.

The machine is shared: beside the latencies each round prints the CPU it cost per
intake request (server workers and database backends, `cpu_meter`) and the board
client's CPU, which do not count time spent waiting for a core.  Target (issue 11 §7): p95 ≤ 1 s, 0 missed, with 50
boards and 100 intake requests/s for 60 s on 2 cores.

    .venv/bin/python bench/bench_board_push.py [--boards 50] [--rate 100] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import time
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from board_db import demo_database, inside_points  # bench/board_db.py, beside this script
from cpu_meter import Cost, CpuMeter, _cpu_ms
from fixed_rate import Paced, paced
from http_load import Server
from sqlalchemy import text

from layers.store.db import make_engine

GRACE_S = 10.0
REPORT = re.compile(r'"incident_id": (\d+), "action": "report".*?, "at": "([^"]+)"')


async def _board(url: str, key: str, seen: dict[int, float], ready: list[int]) -> None:
    """One board: follow the stream; on a drop, resume from the last id (as board.js does)."""
    parts = urlsplit(url)
    cursor, first = None, True
    while True:
        try:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            await asyncio.sleep(1.0)
            continue
        resume = f"Last-Event-ID: {cursor}\r\n" if cursor else ""
        writer.write(
            (
                f"GET /board/stream HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n{resume}\r\n"
            ).encode()
        )
        while line := await reader.readline():
            if first and line.startswith(b"retry:"):
                ready.append(1)
                first = False
            elif line.startswith(b"id: "):
                cursor = line[4:].strip().decode()
            elif line.startswith(b"data: {") and b'"action": "report"' in line:
                got = time.time()
                m = REPORT.search(line.decode())
                if m:
                    at = datetime.fromisoformat(m.group(2)).timestamp()
                    seen.setdefault(int(m.group(1)), got - at)
        writer.close()
        ready.append(0)  # a drop: counted, then resumed
        await asyncio.sleep(1.0)


async def _boards(url: str, key: str, n: int, conn) -> None:
    seen: list[dict[int, float]] = [{} for _ in range(n)]
    ready: list[int] = []
    tasks = [asyncio.create_task(_board(url, key, seen[i], ready)) for i in range(n)]
    while sum(ready) < n:
        await asyncio.sleep(0.05)
    conn.send("ready")
    while not conn.poll():
        await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    conn.send((seen, len(ready) - sum(ready)))


def _child(url: str, key: str, n: int, conn) -> None:
    asyncio.run(_boards(url, key, n, conn))


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def categories(db_url: str) -> list[str]:
    """Leaf categories a resident may file like ``0102`` (one per round, see the module)."""
    engine = make_engine(db_url, pool_size=1)
    with engine.begin() as c:
        found = list(
            c.execute(
                text(
                    "SELECT c.code FROM categories c JOIN categories b ON b.code = '0102'"
                    " WHERE c.public AND c.default_urgency = b.default_urgency"
                    " AND c.needs_callback = b.needs_callback ORDER BY c.code <> '0102', c.code"
                )
            ).scalars()
        )
    engine.dispose()
    return found


def run(
    url: str,
    db_url: str,
    key: str,
    boards: int,
    rate: float,
    seconds: float,
    category: str = "0102",
    meter: CpuMeter | None = None,
):
    """One round: `boards` boards, intake at `rate` for `seconds`; (intake, latencies, missed, …)."""
    here, there = mp.Pipe()
    child = mp.get_context("spawn").Process(target=_child, args=(url, key, boards, there))
    child.start()
    assert here.recv() == "ready"
    tag = "push" + uuid.uuid4().hex[:8]
    before = meter.snapshot() if meter else None
    client_before = _cpu_ms(child.pid or 0)

    points = inside_points(db_url)

    def pick(i: int):
        lon, lat = points[(i * 7919) % len(points)]
        body = json.dumps(
            {
                "location": {"lon": lon, "lat": lat},
                "category": category,
                "channel": "resident_app",
                "description": f"{tag} {i}",
            }
        ).encode()
        return ("POST", "/incidents", body)

    intake = paced(url, rate=rate, seconds=seconds, pick=pick, connections=32)
    time.sleep(GRACE_S)  # the last pushes' grace (later still counts as missed)
    client_ms = _cpu_ms(child.pid or 0) - client_before
    here.send("stop")
    seen, drops = here.recv()
    child.join(10)
    engine = make_engine(db_url, pool_size=1)
    with engine.begin() as c:
        ids = set(
            c.execute(
                text("SELECT id FROM incidents WHERE description LIKE :t"), {"t": tag + " %"}
            ).scalars()
        )
    engine.dispose()
    latencies = sorted(v for board in seen for k, v in board.items() if k in ids)
    missed = sum(len(ids - set(board)) for board in seen)
    if missed:
        print("missed (first 10):", sorted({i for b in seen for i in ids - set(b)})[:10])
    cost = meter.cost(before, len(ids)) if meter and before else None
    return intake, latencies, missed, len(ids), drops, cost, client_ms / max(len(ids), 1)


def line(
    label: str,
    intake: Paced,
    latencies: list[float],
    missed: int,
    cases: int,
    drops: int,
    cost: Cost | None = None,
    client_ms: float = float("nan"),
) -> str:
    ms = [v * 1000 for v in latencies]
    text = (
        f"{label:10} cases {cases:5}  push p50 {_pct(ms, 0.5):7.1f}  p95 {_pct(ms, 0.95):7.1f}"
        f"  p99 {_pct(ms, 0.99):7.1f}  max {ms[-1] if ms else float('nan'):7.1f} ms"
        f"  missed {missed}  drops resumed {drops}\n           {intake.line('intake')}"
    )
    if cost is not None:
        text += f"\n           {cost.line('per intake request', os.cpu_count() or 1).strip()}"
        text += f"; board client {client_ms:.2f} ms"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    before = os.getloadavg()
    with demo_database(args.scale, "push") as (db_url, keys):
        server = Server(args.workers, {"WANGGE_DATABASE_URL": db_url})
        try:
            server.wait()
            key = keys["dispatcher"]
            first, second = categories(db_url)[:2]
            meter = CpuMeter(server.proc.pid, db_url)
            base = run(server.url, db_url, key, 1, args.rate, args.seconds, first, meter)
            mid = os.getloadavg()
            full = run(server.url, db_url, key, args.boards, args.rate, args.seconds, second, meter)
            meter.close()
        finally:
            server.stop()
    after = os.getloadavg()
    print(
        f"load average {before[0]:.2f} before / {after[0]:.2f} after (1 min; 5 min {after[1]:.2f})"
        f" on {os.cpu_count()} cores, {args.workers} server workers, scale {args.scale},"
        f" intake {args.rate:.0f}/s for {args.seconds:.0f}s; between the rounds {mid[0]:.2f}"
    )
    print(line("1 board", *base))
    print(line(f"{args.boards} boards", *full))
    b95, f95 = _pct(base[1], 0.95), _pct(full[1], 0.95)
    print(
        f"p95 with {args.boards} boards / with 1 board: {f95 / b95 if b95 else float('nan'):.2f}x"
    )


if __name__ == "__main__":
    main()
