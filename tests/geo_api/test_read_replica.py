"""A streaming-replication hot standby serves the read-only faces and survives its own outage.

A private primary (its own cluster under a temporary $WANGGE_HOME) gets the demo
by restore, `ReplicaCluster` makes its standby with `pg_basebackup`, and the app
is pointed at the pair by two URLs (the external set-up; the private one differs
only in where the URLs come from, checked too).  What is proved over HTTP:
reads come from the replica (a change the paused standby has not replayed is
not seen), a replica further behind than the setting is not read, and stopping
the replica in the middle of a stream of reads fails none of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from geo_api.app import create_app
from geo_api.cli import app as cli
from geo_api.deps import ReadSessionDep
from geo_api.migrate import grant_service_role
from geo_api.replica_route import ReplicaFallbackRoute
from geo_api.settings import Settings
from layers.demo.build import Progress
from layers.store.backup import backup, restore
from layers.store.cluster import PrivateCluster
from layers.store.pg_binaries import find_pg_binaries
from layers.store.read_routing import replica_service_url
from layers.store.replica import ReplicaCluster
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK

MARK = "副本测试 replica-test"


@dataclass(frozen=True)
class Pair:
    """The primary and its standby: owner URLs and the clusters."""

    primary_url: str
    replica_url: str
    primary: PrivateCluster
    replica: ReplicaCluster


def sql(url: str, statement: str, **params: object) -> object:
    """Run one statement as the owner (autocommit) and return the first column of its row."""
    engine = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            result = conn.execute(text(statement), params)
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def pair(test_db, tmp_path_factory) -> Iterator[Pair]:
    """A private primary holding the demo, and its hot standby."""
    home = tmp_path_factory.mktemp("replica-home")
    primary = PrivateCluster(DatabaseSettings(home=home))
    primary.start()
    url = primary.url()
    external = DatabaseSettings(database_url=url)
    bins = find_pg_binaries(None)
    quiet = Progress(lambda _m: None)
    archive = Path(home) / "demo.dump"
    backup(url=test_db.url, path=archive, bins=bins, progress=quiet)
    grant_service_role(url, external)  # the role exists before the archive's grants name it
    restore(url=url, path=archive, bins=bins, replace=False, progress=quiet)
    grant_service_role(url, external)
    replica = ReplicaCluster(primary)
    assert "base backup" in replica.start()
    made = Pair(url, replica.url(), primary, replica)
    sql(url, "SELECT txid_current()")  # a commit to replay: the standby's lag is then known
    wait_replayed(made)
    try:
        yield made
    finally:
        replica.stop()
        primary.stop()


@pytest.fixture(scope="module")
def replica_client(pair: Pair) -> Iterator[TestClient]:
    """The app on the pair, given as two URLs; the lag re-measured every 50 ms."""
    settings = DatabaseSettings(
        database_url=pair.primary_url,
        replica_database_url=pair.replica_url,
        replica_max_lag_s=3600,
        replica_recheck_s=0.05,
    )
    with TestClient(create_app(Settings(db=settings), clock=TEST_CLOCK)) as client:
        yield client


def street_names(client: TestClient) -> set[str]:
    """The streets' names as the public OGC page answers them."""
    answer = client.get("/ogc/collections/streets/items", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return {f["properties"]["name"] for f in answer.json()["features"]}


def wait_replayed(pair: Pair, timeout: float = 20.0) -> None:
    """Until the standby has replayed all the WAL it received."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        caught_up = sql(
            pair.replica_url, "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
        )
        if caught_up:
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def test_private_replica_is_found_by_home(pair: Pair) -> None:
    """Without URLs, the server reads from the replica `wangge db start --replica` made."""
    private = DatabaseSettings(home=pair.primary.home)
    service = make_url(pair.primary.url()).set(username="wangge_service", password="x")
    found = replica_service_url(private, service.render_as_string(hide_password=False))
    assert found is not None
    assert make_url(found).port == pair.replica.port() != make_url(pair.primary_url).port
    assert make_url(found).username == "wangge_service"
    assert replica_service_url(private.model_copy(update={"replica_reads": False}), found) is None


def test_reads_come_from_the_replica_and_not_when_it_lags(pair: Pair, replica_client) -> None:
    """Paused replay hides a new change from readers; over the lag limit they read the primary."""
    assert replica_client.get("/health").json()["replica"] == "serving"
    sql(pair.replica_url, "SELECT pg_wal_replay_pause()")
    try:
        sql(
            pair.primary_url,
            "UPDATE streets SET name = :mark WHERE id = (SELECT min(id) FROM streets)",
            mark=MARK,
        )
        assert MARK in street_names_via_primary(pair)
        assert MARK not in street_names(replica_client)  # the standby has not replayed it
        router = replica_client.app.state.read_router
        router.max_lag_s = 0.5
        time.sleep(0.6)  # the paused standby is now further behind than allowed
        assert MARK in street_names(replica_client)
        assert replica_client.get("/health").json()["replica"] == "standing_by"
    finally:
        sql(pair.replica_url, "SELECT pg_wal_replay_resume()")
        replica_client.app.state.read_router.max_lag_s = 3600
    wait_replayed(pair)
    time.sleep(0.1)
    assert replica_client.get("/health").json()["replica"] == "serving"
    assert MARK in street_names(replica_client)


def street_names_via_primary(pair: Pair) -> str:
    """The streets' names straight from the primary (what the replica should catch up to)."""
    return str(sql(pair.primary_url, "SELECT string_agg(name, ',') FROM streets"))


def test_stopping_the_replica_mid_run_fails_no_read(pair: Pair, replica_client) -> None:
    """Pages and tiles keep answering 200 while the replica stops and comes back."""
    assert replica_client.get("/health").json()["replica"] == "serving"
    answers: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            for path in (
                "/ogc/collections/communities/items?limit=50",
                "/ogc/collections/grid_cells_l1/tiles/WebMercatorQuad/14/6724/12929",
                "/ogc/collections/streets",
            ):
                answers.append(replica_client.get(path).status_code)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        time.sleep(0.5)
        assert "stopped" in pair.replica.stop()
        time.sleep(0.8)
        down = replica_client.get("/health").json()["replica"]
        assert pair.replica.start().startswith("replica started")
        time.sleep(0.8)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert down == "standing_by"
    assert len(answers) > 30, answers
    assert set(answers) <= {200, 204}, sorted(set(answers))
    wait_replayed(pair)
    time.sleep(0.1)
    assert replica_client.get("/health").json()["replica"] == "serving"


def test_a_replica_lost_mid_request_is_retried_on_the_primary(replica_client) -> None:
    """The replica's connection dies inside the route: the route runs again on the primary."""
    runs: list[bool] = []

    def where(session: ReadSessionDep) -> dict[str, bool]:
        on_standby = bool(session.execute(text("SELECT pg_is_in_recovery()")).scalar())
        runs.append(on_standby)
        # On the standby the backend ends itself, as a replica stopped mid-query would.
        session.execute(
            text(
                "SELECT CASE WHEN pg_is_in_recovery() "
                "THEN pg_terminate_backend(pg_backend_pid()) END"
            )
        )
        return {"standby": on_standby}

    app = replica_client.app
    app.router.add_api_route("/test/where", where, route_class_override=ReplicaFallbackRoute)
    try:
        assert replica_client.get("/health").json()["replica"] == "serving"
        answer = replica_client.get("/test/where")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"standby": False}
        assert runs == [True, False]  # first on the replica, then once more on the primary
    finally:
        app.router.routes.pop()


def test_cli_starts_stops_and_names_the_replica(pair: Pair) -> None:
    """`wangge db status|url --replica|stop --replica|start` on the private pair."""
    env = {"WANGGE_HOME": str(pair.primary.home)}
    runner = CliRunner()
    status = runner.invoke(cli, ["db", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert f"replica: running on 127.0.0.1:{pair.replica.port()}" in status.output
    url = runner.invoke(cli, ["db", "url", "--replica"], env=env)
    assert url.output.strip().endswith(f":{pair.replica.port()}/wangge"), url.output
    stopped = runner.invoke(cli, ["db", "stop", "--replica"], env=env)
    assert "replica: stopped" in stopped.output and pair.primary.is_running()
    started = runner.invoke(cli, ["db", "start"], env=env)  # an existing replica starts too
    assert started.exit_code == 0, started.output
    assert "replica started" in started.output and pair.replica.is_running()
