"""A live server survives a restart of its private cluster: 503 while down, 200 after, no restart.

The server runs in a thread of this process (uvicorn) on a second private
cluster under a temporary WANGGE_HOME; the cluster is stopped and started with
the real `wangge db stop|start`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK
from tests.layers.store.test_cluster import wangge
from tests.live_server import serve_in_thread

PROBE = "/open311/v2/services.json"  # reads the reference data: the database must answer
WANGGE_LOGGERS = ("geo_api", "layers", "grids", "uvicorn")


@pytest.fixture(scope="module")
def cluster_home(tmp_path_factory: pytest.TempPathFactory):
    """A second private cluster, created, migrated and running; stopped at the end."""
    home = tmp_path_factory.mktemp("restart-home")
    env = {"WANGGE_HOME": str(home)}
    for step in (("db", "start"), ("migrate",)):
        done = wangge(*step, env=env)
        assert done.returncode == 0, done.stderr
    yield home
    wangge("db", "stop", env=env)


def _port(home: Path) -> int:
    return json.loads((home / "cluster.json").read_text())["port"]


def _ours(record: logging.LogRecord) -> bool:
    return record.name.split(".")[0] in WANGGE_LOGGERS and record.levelno >= logging.WARNING


class Prober:
    """Polls the server every 0.1 s in a thread, keeping (time, status, code, Retry-After)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: list[tuple[float, int, str | None, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self._stop.wait(0.1):
                resp = http.get(PROBE)
                code = resp.json().get("code") if resp.status_code != 200 else None
                self.answers.append(
                    (time.monotonic(), resp.status_code, code, resp.headers.get("retry-after"))
                )

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def ok_since(self, moment: float) -> bool:
        """True once an answer after `moment` was a 200."""
        return any(t > moment and status == 200 for t, status, _, _ in self.answers)


def test_a_restarted_cluster_is_served_again_without_restarting_the_server(
    cluster_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"WANGGE_HOME": str(cluster_home)}
    port = _port(cluster_home)
    app = create_app(Settings(db=DatabaseSettings(home=cluster_home)), clock=TEST_CLOCK)
    with serve_in_thread(app, log_level="warning") as base:
        for _ in range(5):  # the pool holds open connections when the cluster goes down
            assert httpx.get(base + PROBE).status_code == 200
        caplog.clear()
        caplog.set_level(logging.INFO)
        with Prober(base) as probe:
            time.sleep(0.5)
            stopping = time.monotonic()
            stopped = wangge("db", "stop", env=env)
            assert stopped.returncode == 0, stopped.stderr
            time.sleep(2)
            started = wangge("db", "start", env=env)
            up = time.monotonic()
            assert started.returncode == 0, started.stderr
            assert _port(cluster_home) == port, started.stdout  # same port, despite TIME_WAIT
            while not probe.ok_since(up) and time.monotonic() - up < 60:
                time.sleep(0.2)
    assert probe.ok_since(up), "the server did not reconnect by itself"
    failed = [a for a in probe.answers if a[1] != 200]
    assert failed, "the outage was not seen"
    for _, status, code, retry_after in failed:
        assert (status, code) == (503, "database_unavailable")
        assert retry_after is not None and retry_after.isdigit()
    print(
        f"\n5xx for {failed[-1][0] - failed[0][0]:.1f} s ({len(failed)} answers) while the "
        f"database was down {up - stopping:.1f} s; 200 again "
        f"{min(t for t, s, _, _ in probe.answers if t > up and s == 200) - up:.2f} s after start"
    )
    ours = [r for r in caplog.records if _ours(r)]
    assert not [r for r in ours if r.exc_info], "an outage writes no traceback"
    assert len(ours) == 1, [r.getMessage() for r in ours]  # one line per outage
    assert any("available again" in r.getMessage() for r in caplog.records)
