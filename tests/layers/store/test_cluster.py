"""The private cluster and the CLI around it: lifecycle and every refusal, through `wangge`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from layers.store.cluster import PrivateCluster, port_is_free
from layers.store.settings import DEFAULT_CLUSTER_PORT, DatabaseSettings


def wangge(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the real CLI in a subprocess; WANGGE_* from the test environment are dropped."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    return subprocess.run(
        [sys.executable, "-m", "geo_api.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def fresh_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A second private cluster in a new home, stopped at the end."""
    home = tmp_path_factory.mktemp("cluster-home")
    yield home
    wangge("db", "stop", env={"WANGGE_HOME": str(home)})


def test_lifecycle_start_again_status_url_stop(fresh_cluster: Path) -> None:
    env = {"WANGGE_HOME": str(fresh_cluster)}
    first = wangge("db", "start", env=env)
    assert first.returncode == 0, first.stderr
    assert "created and started" in first.stdout
    state = json.loads((fresh_cluster / "cluster.json").read_text())
    assert (fresh_cluster / "cluster.json").stat().st_mode & 0o077 == 0, "password file is private"
    if not port_is_free(DEFAULT_CLUSTER_PORT) and state["port"] != DEFAULT_CLUSTER_PORT:
        assert f":{state['port']}" in first.stdout  # the default was taken: another one was picked

    again = wangge("db", "start", env=env)
    assert again.returncode == 0
    assert "already running" in again.stdout

    status = wangge("db", "status", env=env)
    assert status.returncode == 0 and "running on 127.0.0.1" in status.stdout

    url = wangge("db", "url", env=env)
    last = url.stdout.strip().splitlines()[-1]
    assert last.startswith("postgresql+psycopg2://wangge:") and f":{state['port']}/wangge" in last
    assert state["password"] not in url.stdout and ":***@" in last  # only when asked:
    shown = wangge("db", "url", "--show-password", env=env).stdout.strip().splitlines()[-1]
    assert shown == last.replace("***", state["password"])
    service = wangge("db", "url", "--service", env=env).stdout.strip().splitlines()[-1]
    assert service.startswith("postgresql+psycopg2://wangge_service:***@")

    migrated = wangge("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "the server connects as wangge_service" in migrated.stdout

    stopped = wangge("db", "stop", env=env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert wangge("db", "stop", env=env).stdout.strip() == "not running"
    after = wangge("db", "status", env=env)
    assert after.returncode == 3 and "stopped" in after.stdout
    if os.geteuid() == 0:  # PostgreSQL refuses root: the data belongs to the cluster user
        assert (fresh_cluster / "pgdata").stat().st_uid != 0


def test_explicit_port_taken_is_refused_and_nothing_created(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        result = wangge(
            "db", "start", env={"WANGGE_HOME": str(tmp_path), "WANGGE_DB_PORT": str(port)}
        )
    assert result.returncode != 0
    assert f"port {port}" in result.stderr and "taken" in result.stderr
    assert not (tmp_path / "pgdata").exists(), "a refused start must not run initdb"


def test_home_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = wangge("db", "start", env={"WANGGE_HOME": str(blocker / "home")})
    assert result.returncode != 0
    assert "is not writable" in result.stderr and "WANGGE_HOME" in result.stderr


def test_missing_binaries_name_the_package(tmp_path: Path) -> None:
    result = wangge(
        "db",
        "start",
        env={"WANGGE_HOME": str(tmp_path / "h"), "WANGGE_PG_BINDIR": str(tmp_path / "nothing")},
    )
    assert result.returncode != 0
    assert "install the Debian package `postgresql`" in result.stderr


def test_missing_postgis_names_the_package(tmp_path: Path) -> None:
    real = PrivateCluster(DatabaseSettings())._bins().bindir
    fake = tmp_path / "bin"
    fake.mkdir()
    for prog in ("initdb", "pg_ctl", "postgres"):
        (fake / prog).symlink_to(real / prog)
    (fake / "pg_config").write_text(f"#!/bin/sh\necho {tmp_path / 'share'}\n")
    (fake / "pg_config").chmod(0o755)
    result = wangge(
        "db", "start", env={"WANGGE_HOME": str(tmp_path / "h"), "WANGGE_PG_BINDIR": str(fake)}
    )
    assert result.returncode != 0
    assert "PostGIS is not installed" in result.stderr and "-postgis-3" in result.stderr


def test_unreachable_database_is_a_clear_error_without_the_password() -> None:
    url = "postgresql://someone:s3cret-pw@127.0.0.1:1/nowhere"
    result = wangge("migrate", env={"WANGGE_DATABASE_URL": url})
    assert result.returncode != 0
    assert "cannot reach the database" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_external_url_starts_nothing(tmp_path: Path) -> None:
    result = wangge(
        "db",
        "start",
        env={
            "WANGGE_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x",
            "WANGGE_HOME": str(tmp_path / "h"),
        },
    )
    assert result.returncode == 0
    assert "WANGGE_DATABASE_URL is set" in result.stdout and "p@" not in result.stdout
    assert not (tmp_path / "h").exists()


def test_not_a_postgres_url_is_refused() -> None:
    result = wangge("migrate", env={"WANGGE_DATABASE_URL": "sqlite:///x.db"})
    assert result.returncode == 2
    assert "must be a PostgreSQL URL" in result.stderr


def test_help_lists_the_commands() -> None:
    result = wangge("--help")
    assert result.returncode == 0
    for command in ("db", "migrate", "demo", "serve"):
        assert command in result.stdout


def _port_in_time_wait() -> int:
    """A local port with a connection in TIME_WAIT on it and nothing listening any more.

    The listener sets SO_REUSEADDR as PostgreSQL's does (its connections inherit it).
    """
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the listening side closes first: its end goes to TIME_WAIT
        client.recv(1)
        client.close()
    return port


def test_a_port_in_time_wait_is_free_but_a_listening_one_is_not() -> None:
    port = _port_in_time_wait()
    assert port_is_free(port), "TIME_WAIT leftovers of a stopped cluster must not block its port"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        assert not port_is_free(sock.getsockname()[1])
