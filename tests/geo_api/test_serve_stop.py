"""`wangge serve` stops on the first SIGTERM within its grace period, even with a request stuck.

A real subprocess: a request waits on a table lock held by the test (as a slow
query would), the SLA sweep and LISTEN threads run, and one SIGTERM must end
every process within the grace period plus the shutdown hooks' few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from geo_api.cli.graceful import HOOKS_S
from layers.store.settings import DEFAULT_SERVICE_ROLE
from tests.conftest import DemoDatabase
from tests.live_server import free_port

GRACE_S = 2
MARGIN_S = 6  # process exit and the test's own polling on a busy machine


def _start(test_db: DemoDatabase, tmp_path: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env |= {
        "WANGGE_DATABASE_URL": test_db.url,
        "WANGGE_SERVICE_PASSWORD": os.environ["WANGGE_SERVICE_PASSWORD"],
        "WANGGE_HOME": str(tmp_path),
        "WANGGE_SHUTDOWN_GRACE_S": str(GRACE_S),
        "WANGGE_SLA_SWEEP_SECONDS": "1",
    }
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "geo_api.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180  # two cores shared by many: imports are slow
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, port
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("wangge serve did not come up:\n" + (tmp_path / "serve.log").read_text())


def _stuck_request(port: int) -> None:
    """A request that waits on the test's lock; the server going away ends it."""
    try:
        httpx.get(f"http://127.0.0.1:{port}/open311/v2/services.json", timeout=90)
    except httpx.HTTPError:
        pass


def _wait_for_blocked_request(engine, database: str) -> None:
    deadline = time.monotonic() + 30
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND usename = :u "
        "AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query, {"d": database, "u": DEFAULT_SERVICE_ROLE}).scalar():
                return
        time.sleep(0.2)
    pytest.fail("the request never reached the database")


@pytest.mark.parametrize(("workers", "to_group"), [(1, False), (2, True)])
def test_one_sigterm_stops_the_server_with_a_request_stuck_in_the_database(
    test_db: DemoDatabase, tmp_path: Path, workers: int, to_group: bool
) -> None:
    proc, port = _start(test_db, tmp_path, workers)
    owner = create_engine(test_db.url, poolclass=pool.NullPool)
    blocker = owner.connect()
    try:
        blocker.execute(text("LOCK TABLE categories IN ACCESS EXCLUSIVE MODE"))
        stuck = threading.Thread(target=_stuck_request, args=(port,), daemon=True)
        stuck.start()
        _wait_for_blocked_request(owner, test_db.url.rsplit("/", 1)[1])
        sent = time.monotonic()
        if to_group:  # as systemd does by default: every process of the service
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=GRACE_S + HOOKS_S + MARGIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"still running {time.monotonic() - sent:.0f} s after one SIGTERM:\n"
                + (tmp_path / "serve.log").read_text()[-3000:]
            )
        print(f"\nworkers={workers}: stopped {time.monotonic() - sent:.1f} s after SIGTERM")
    finally:
        blocker.rollback()
        blocker.close()
        owner.dispose()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert _group_gone(proc.pid), subprocess.run(
        ["ps", "-o", "pid,stat,etime,cmd", "-g", str(proc.pid)], capture_output=True, text=True
    ).stdout  # no worker outlived the supervisor


def _group_gone(pgid: int, wait_s: float = 10) -> bool:
    """True once no process of the group is left (multiprocessing's helpers exit after it)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False
