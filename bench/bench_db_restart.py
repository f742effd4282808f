"""Seconds of 5xx while the database restarts under a running server, against the downtime.

A private cluster of its own (temporary WANGGE_HOME, migrated, no demo) serves
a live app (uvicorn in a thread, as the service role); a probe asks a
database-backed endpoint every 50 ms while the cluster is stopped, kept down
for `--down` seconds and started again, `--rounds` times.  The baseline is the
database's own downtime in the same round (stop called → start returned): the
server should answer 5xx no longer than that, recover within a probe or two of
the start, and log one line per outage.  Before go-live hardening the server
never recovered (the restarted cluster moved to another port).

    .venv/bin/python bench/bench_db_restart.py [--rounds 3] [--down 2]
"""

from __future__ import annotations

import argparse
import logging
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from geo_api.app import create_app
from geo_api.migrate import grant_service_role, upgrade
from geo_api.settings import Settings
from layers.store.cluster import PrivateCluster
from layers.store.settings import DatabaseSettings

PROBE = "/open311/v2/services.json"


class Counter(logging.Handler):
    """Counts warnings and worse, and tracebacks, from wangge's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines = 0
        self.tracebacks = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in {"geo_api", "layers", "grids", "uvicorn"}:
            self.lines += 1
            self.tracebacks += record.exc_info is not None


def serve(settings: Settings) -> tuple[uvicorn.Server, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), port=port, log_level="warning", lifespan="on")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def probe(base: str, answers: list[tuple[float, int]], stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        while not stop.wait(0.05):
            answers.append((time.monotonic(), http.get(PROBE).status_code))


def one_round(cluster: PrivateCluster, base: str, down_s: float, counter: Counter) -> str:
    answers: list[tuple[float, int]] = []
    stop = threading.Event()
    thread = threading.Thread(target=probe, args=(base, answers, stop), daemon=True)
    thread.start()
    time.sleep(0.5)
    lines, tracebacks = counter.lines, counter.tracebacks
    stopping = time.monotonic()
    cluster.stop()
    time.sleep(down_s)
    cluster.start()
    up = time.monotonic()
    while not any(t > up and s == 200 for t, s in answers) and time.monotonic() - up < 60:
        time.sleep(0.05)
    time.sleep(0.3)
    stop.set()
    thread.join()
    failed = [t for t, s in answers if s >= 500]
    codes = sorted({s for _, s in answers if s >= 500})
    back = min((t for t, s in answers if t > up and s == 200), default=float("nan"))
    span = failed[-1] - failed[0] if failed else 0.0
    return (
        f"database down {up - stopping:.2f} s; 5xx for {span:.2f} s ({len(failed)} answers, "
        f"{codes}) = {span / (up - stopping):.2f}x the downtime; 200 again {back - up:.2f} s "
        f"after start; {counter.lines - lines} log lines, "
        f"{counter.tracebacks - tracebacks} tracebacks"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--down", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wangge-restart-") as home:
        db = DatabaseSettings(home=Path(home))
        cluster = PrivateCluster(db)
        print("cluster:", cluster.start())
        try:
            upgrade(cluster.url())
            grant_service_role(cluster.url(), db)
            counter = Counter()
            logging.getLogger().addHandler(counter)
            server, base = serve(Settings(db=db))
            for n in range(1, args.rounds + 1):
                print(f"round {n}: {one_round(cluster, base, args.down, counter)}")
            server.should_exit = True
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
