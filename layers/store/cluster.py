"""The embedded default: a private PostgreSQL + PostGIS cluster under `$WANGGE_HOME`.

Why a private cluster: a fresh clone must run with nothing but the Debian
packages, without touching (or depending on) any PostgreSQL the machine may
already run.  PostgreSQL refuses to run as root, so when we are root the cluster
belongs to an unprivileged system user.  Layout of `$WANGGE_HOME`:

    cluster.json   port, the superuser's and the service role's passwords (mode 0600,
                   the invoking user's)
    pgdata/        the data directory (owned by the cluster user)
    run/           the unix socket directory
    log/postgres.log
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from layers.core.errors import ClusterError
from layers.store.os_user import ensure_os_user, grant_traverse
from layers.store.pg_binaries import PgBinaries, find_pg_binaries
from layers.store.settings import DEFAULT_CLUSTER_PORT, DatabaseSettings

logger = logging.getLogger(__name__)

DB_SUPERUSER = "wangge"
MAX_CONNECTIONS = 300
"""A hot standby refuses to start with fewer than its primary's, so the replica takes this too."""
TUNING = (
    "-c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min"
    f" -c max_connections={MAX_CONNECTIONS}"
)
"""Modest server settings for bulk loads and analytics (the defaults suit a 128 MB machine).
300 connections: every server worker holds two pools (the session engine and the autocommit
one), and a suite or a bench with several workers and a replica ran into the default 100."""
PRIVACY = "-c log_min_error_statement=panic -c log_error_verbosity=terse"
"""Keep failed statements and their DETAIL out of postgres.log: psycopg2 sends values inline,
so the statement text of a failed INSERT holds what a resident typed."""
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes; keep a margin for ".s.PGSQL.NNNNN"


@dataclass(frozen=True)
class ClusterState:
    """What `cluster.json` remembers between runs."""

    port: int
    password: str
    socket_dir: str
    service_password: str = ""
    """Password of the server's least-privilege role (`wangge migrate` creates the role)."""

    def url(self, database: str, user: str = DB_SUPERUSER, password: str | None = None) -> str:
        """SQLAlchemy URL over TCP on the loopback interface (the superuser's by default)."""
        secret = self.password if password is None else password
        return f"postgresql+psycopg2://{user}:{secret}@127.0.0.1:{self.port}/{database}"


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port`.

    SO_REUSEADDR, as PostgreSQL itself sets it: the connections a stopped cluster
    closed linger in TIME_WAIT on its port for a minute, which must not make the
    port look taken (a restarted cluster would refuse to start, or move to
    another port under a running server).  A socket that listens still blocks.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_near(start: int) -> int:
    for port in range(start, start + 200):
        if port_is_free(port):
            return port
    raise ClusterError(f"no free port between {start} and {start + 199}", code="port_taken")


class PrivateCluster:
    """Start, stop and describe the private cluster; every method is safe to repeat."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.home = settings.home.expanduser().absolute()
        self.pgdata = self.home / "pgdata"
        self.logfile = self.home / "log" / "postgres.log"
        self.state_file = self.home / "cluster.json"
        self.os_user = settings.cluster_os_user if os.geteuid() == 0 else None

    # -- state -------------------------------------------------------------------------
    def state(self) -> ClusterState | None:
        """The remembered port and password, or None before the first start."""
        if not self.state_file.exists():
            return None
        data = json.loads(self.state_file.read_text())
        return ClusterState(
            data["port"], data["password"], data["socket_dir"], data.get("service_password", "")
        )

    def _save_state(self, state: ClusterState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.__dict__, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of the cluster's database (it need not be running)."""
        state = self.state()
        if state is None:
            raise ClusterError(
                f"no private cluster in {self.home} yet: run `wangge db start`",
                code="cluster_not_initialised",
            )
        return state.url(database or self.settings.db_name)

    def service_password(self) -> str:
        """The service role's password (made at `db start`; clusters from before get one then)."""
        state = self.state()
        if state is None or not state.service_password:
            raise ClusterError(
                f"the private cluster in {self.home} has no service role yet: "
                "run `wangge db start` and `wangge migrate`",
                code="service_role_missing",
            )
        return state.service_password

    # -- queries -----------------------------------------------------------------------
    def is_running(self) -> bool:
        """True when the postmaster of `pgdata` is alive."""
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        result = self._run(
            [str(self._bins().pg_ctl), "status", "-D", str(self.pgdata)], check=False
        )
        return result.returncode == 0

    def status(self) -> str:
        """One human line: running or not, port, data directory, log."""
        state = self.state()
        if state is None:
            return f"not initialised (no cluster in {self.home}); `wangge db start` creates it"
        if self.is_running():
            return f"running on 127.0.0.1:{state.port}, data {self.pgdata}, log {self.logfile}"
        return f"stopped (data {self.pgdata}, port {state.port} when started)"

    # -- actions -----------------------------------------------------------------------
    def start(self) -> str:
        """Create the cluster if needed and start it; returns what was done.

        Every check that can fail (binaries, home, port) runs before `initdb`, so a
        refused start leaves nothing behind.
        """
        bins = self._bins()
        self._prepare_home()
        state = self.state()
        if state is not None and not state.service_password:  # a cluster from before the role
            state = replace(state, service_password=secrets.token_urlsafe(24))
            self._save_state(state)
        if state is not None and self.is_running():
            return f"already running on 127.0.0.1:{state.port}"
        initialised = (self.pgdata / "PG_VERSION").exists()
        if initialised and state is None:
            raise ClusterError(
                f"{self.pgdata} exists but {self.state_file} is missing, so its password is "
                "unknown; remove the data directory to start afresh",
                code="cluster_state_missing",
            )
        remembered = state.port if state and initialised else None
        port = self._choose_port(remembered)
        if not initialised:
            state = self._initdb(bins, state)
        assert state is not None
        self._ensure_socket_dir(state.socket_dir)
        if port != state.port:
            state = replace(state, port=port)
            self._save_state(state)
        self._pg_ctl_start(bins, state, port)
        self._ensure_database(state)
        verb = "started" if initialised else "created and started"
        moved = ""
        if initialised and remembered is not None and port != remembered:
            # A server started before still dials the old port: say so, loudly.
            moved = f"; port {remembered} was taken, so a running `wangge serve` must be restarted"
        return f"{verb} on 127.0.0.1:{port} (data {self.pgdata}){moved}"

    def stop(self) -> str:
        """Stop the cluster (fast shutdown); a no-op when it is not running."""
        if not self.is_running():
            return "not running"
        self._run([str(self._bins().pg_ctl), "stop", "-D", str(self.pgdata), "-m", "fast", "-w"])
        return "stopped"

    # -- helpers -----------------------------------------------------------------------
    def _pg_ctl_start(self, bins: PgBinaries, state: ClusterState, port: int) -> None:
        """Start the postmaster on `port` and wait (60 s at most) until it accepts connections."""
        options = (
            f"-p {port} -k {state.socket_dir} -c listen_addresses=127.0.0.1 {TUNING} {PRIVACY}"
        )
        result = self._run(
            [
                str(bins.pg_ctl),
                "start",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.logfile),
                "-w",
                "-t",
                "60",
                "-o",
                options,
            ],
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(
                f"PostgreSQL did not start (exit {result.returncode}); see {self.logfile}: "
                f"{self._log_tail()} {result.stderr.strip()[-300:]}",
                code="cluster_start_failed",
            )

    def _bins(self) -> PgBinaries:
        return find_pg_binaries(self.settings.pg_bindir)

    def _choose_port(self, remembered: int | None) -> int:
        explicit = self.settings.db_port
        if explicit is not None:
            if not port_is_free(explicit):
                raise ClusterError(
                    f"port {explicit} (WANGGE_DB_PORT) is taken by another program; "
                    "choose another port or unset WANGGE_DB_PORT to pick a free one",
                    code="port_taken",
                )
            return explicit
        wanted = remembered or DEFAULT_CLUSTER_PORT
        if port_is_free(wanted):
            return wanted
        port = _free_port_near(wanted + 1)
        logger.warning("port %s is taken; the private cluster uses %s", wanted, port)
        return port

    def _prepare_home(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            probe = self.home / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ClusterError(
                f"WANGGE_HOME {self.home} is not writable ({exc.strerror}); "
                "set WANGGE_HOME to a directory you can write",
                code="home_not_writable",
            ) from exc
        for sub in (self.home / "log", self.home / "run"):
            sub.mkdir(exist_ok=True)
        if self.os_user:
            self._hand_over_to_os_user()

    def _hand_over_to_os_user(self) -> None:
        """Make the cluster's directories reachable by and owned by the cluster user."""
        user = ensure_os_user(self.os_user or DB_SUPERUSER)
        grant_traverse(self.home)
        for sub in (self.home / "log", self.home / "run"):
            os.chown(sub, user.pw_uid, user.pw_gid)
        if self.pgdata.exists():
            os.chown(self.pgdata, user.pw_uid, user.pw_gid)

    def _ensure_socket_dir(self, path: str) -> None:
        directory = Path(path)
        directory.mkdir(mode=0o755, exist_ok=True)
        if self.os_user:
            user = pwd.getpwnam(self.os_user)
            os.chown(directory, user.pw_uid, user.pw_gid)

    def _socket_dir(self) -> str:
        candidate = self.home / "run"
        if len(str(candidate)) + 20 <= MAX_SOCKET_PATH:
            return str(candidate)
        # A deep $WANGGE_HOME would overflow the unix socket path: use a short private dir.
        return f"/tmp/wangge-{secrets.token_hex(4)}"

    def _initdb(self, bins: PgBinaries, old: ClusterState | None) -> ClusterState:
        password = old.password if old else secrets.token_urlsafe(24)
        service_password = old.service_password if old else ""
        state = ClusterState(
            old.port if old else 0,
            password,
            self._socket_dir(),
            service_password or secrets.token_urlsafe(24),
        )
        pwfile = self.home / "run" / ".initdb-pw"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self.os_user:
            user = pwd.getpwnam(self.os_user)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
            os.chown(self.pgdata, user.pw_uid, user.pw_gid)
        try:
            result = self._run(
                [
                    str(bins.initdb),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    DB_SUPERUSER,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ],
                check=False,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)  # nothing half-done
            raise ClusterError(
                f"initdb failed: {result.stderr.strip()[-500:]}", code="initdb_failed"
            )
        self._save_state(state)
        return state

    def _ensure_database(self, state: ClusterState) -> None:
        import psycopg2  # local: only needed once the cluster runs

        conn = psycopg2.connect(
            host="127.0.0.1",
            port=state.port,
            user=DB_SUPERUSER,
            password=state.password,
            dbname="postgres",
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (self.settings.db_name,)
                )
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{self.settings.db_name}"')
        finally:
            conn.close()

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        user = pwd.getpwnam(self.os_user) if self.os_user else None
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=str(self.home),
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"{Path(cmd[0]).name} failed: {result.stderr.strip()[-500:]}", code="cluster_error"
            )
        return result
