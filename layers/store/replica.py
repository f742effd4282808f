"""A hot standby of the private cluster: PostgreSQL's own streaming replication.

Why: the read-heavy faces (OGC pages and tiles, maps, analytics, geocode) can be
served by a second server while the primary takes the writes; PostgreSQL already
knows how to keep a copy current (`pg_basebackup -R` + streaming), so the
project only sets it up, starts and stops it, and says how far behind it is.
Layout under `$WANGGE_HOME/replica/`:

    replica.json   its port (the roles and passwords are the primary's: a physical copy)
    pgdata/        the standby's data directory (owned by the cluster user)
    run/           its unix socket directory
    log/postgres.log
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from layers.core.errors import ClusterError
from layers.store.cluster import (
    DB_SUPERUSER,
    MAX_CONNECTIONS,
    PRIVACY,
    PrivateCluster,
    port_is_free,
)
from layers.store.pg_binaries import find_pg_binaries

REPLICA_PORT_OFFSET = 10
"""The standby listens near the primary: primary port + 10, or the next free one."""
STANDBY_SETTINGS = (
    "-c hot_standby=on -c hot_standby_feedback=on -c shared_buffers=256MB"
    f" -c max_connections={MAX_CONNECTIONS}"
)
"""Hot standby answers queries; the feedback keeps the primary's vacuum from cancelling them."""


class ReplicaCluster:
    """Create (from a base backup), start, stop and describe the standby; safe to repeat."""

    def __init__(self, primary: PrivateCluster) -> None:
        self.primary = primary
        self.home = primary.home / "replica"
        self.pgdata = self.home / "pgdata"
        self.logfile = self.home / "log" / "postgres.log"
        self.state_file = self.home / "replica.json"

    # -- queries -----------------------------------------------------------------------
    def port(self) -> int | None:
        """The standby's port, or None before its first start."""
        if not self.state_file.exists():
            return None
        return int(json.loads(self.state_file.read_text())["port"])

    def exists(self) -> bool:
        """True once a base backup has made the standby's data directory."""
        return (self.pgdata / "PG_VERSION").exists() and self.port() is not None

    def is_running(self) -> bool:
        """True when the standby's postmaster is alive."""
        if not self.exists():
            return False
        bins = find_pg_binaries(self.primary.settings.pg_bindir)
        done = self._run([str(bins.pg_ctl), "status", "-D", str(self.pgdata)])
        return done.returncode == 0

    def url(self, database: str | None = None, *, service: bool = False) -> str:
        """SQLAlchemy URL of the standby: the owner's, or the server's role with `service`."""
        state = self.primary.state()
        port = self.port()
        if state is None or port is None:
            raise ClusterError(
                f"no replica in {self.home} yet: run `wangge db start --replica`",
                code="replica_not_initialised",
            )
        name = database or self.primary.settings.db_name
        here = replace(state, port=port)
        if service:
            return here.url(name, self.primary.settings.service_role, state.service_password)
        return here.url(name)

    def status(self) -> str:
        """One human line: running or not, port, data directory."""
        port = self.port()
        if not self.exists():
            return "replica: none (`wangge db start --replica` makes one)"
        if self.is_running():
            return f"replica: running on 127.0.0.1:{port}, data {self.pgdata}, log {self.logfile}"
        return f"replica: stopped (data {self.pgdata}, port {port} when started)"

    # -- actions -----------------------------------------------------------------------
    def start(self) -> str:
        """Make the standby from a base backup of the running primary (first time) and start it."""
        if self.is_running():
            return f"replica already running on 127.0.0.1:{self.port()}"
        created = not self.exists()
        if created:
            self._base_backup()
        port = self._choose_port()
        self._pg_ctl_start(port)
        verb = "created (base backup) and started" if created else "started"
        return f"replica {verb} on 127.0.0.1:{port} (data {self.pgdata})"

    def stop(self) -> str:
        """Stop the standby (fast shutdown); a no-op when it is not running."""
        if not self.is_running():
            return "replica: not running"
        bins = find_pg_binaries(self.primary.settings.pg_bindir)
        done = self._run([str(bins.pg_ctl), "stop", "-D", str(self.pgdata), "-m", "fast", "-w"])
        if done.returncode != 0:
            raise ClusterError(f"pg_ctl stop failed: {done.stderr.strip()[-300:]}")
        return "replica: stopped"

    def drop(self) -> str:
        """Stop the standby and remove its data (the next start makes a fresh base backup)."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
        return "replica: removed"

    # -- helpers -----------------------------------------------------------------------
    def _base_backup(self) -> None:
        """`pg_basebackup -R` from the primary; nothing is left behind when it fails."""
        state = self.primary.state()
        if state is None or not self.primary.is_running():
            raise ClusterError(
                "the primary is not running: `wangge db start` first", code="primary_not_running"
            )
        shutil.rmtree(self.pgdata, ignore_errors=True)
        for sub in (self.home, self.home / "log", self.home / "run"):
            sub.mkdir(parents=True, exist_ok=True)
            self._hand_over(sub)
        bins = find_pg_binaries(self.primary.settings.pg_bindir)
        done = self._run(
            [
                str(bins.client("pg_basebackup")),
                "-D",
                str(self.pgdata),
                "-h",
                "127.0.0.1",
                "-p",
                str(state.port),
                "-U",
                DB_SUPERUSER,
                "-X",
                "stream",
                "-R",
                "-c",
                "fast",
                "--no-password",
            ],
            env={"PGPASSWORD": state.password},
        )
        if done.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise ClusterError(
                f"pg_basebackup failed: {done.stderr.strip()[-400:]}", code="base_backup_failed"
            )

    def _choose_port(self) -> int:
        remembered = self.port()
        if remembered is not None and port_is_free(remembered):
            return remembered
        state = self.primary.state()
        assert state is not None
        for port in range(state.port + REPLICA_PORT_OFFSET, state.port + REPLICA_PORT_OFFSET + 200):
            if port_is_free(port):
                self.state_file.write_text(json.dumps({"port": port}))
                return port
        raise ClusterError("no free port for the replica", code="port_taken")

    def _pg_ctl_start(self, port: int) -> None:
        bins = find_pg_binaries(self.primary.settings.pg_bindir)
        options = (
            f"-p {port} -k {self.home / 'run'} -c listen_addresses=127.0.0.1 "
            f"{STANDBY_SETTINGS} {PRIVACY}"
        )
        where = ["-D", str(self.pgdata), "-l", str(self.logfile)]
        done = self._run([str(bins.pg_ctl), "start", *where, "-w", "-t", "60", "-o", options])
        if done.returncode != 0:
            raise ClusterError(
                f"the replica did not start (exit {done.returncode}); see {self.logfile}",
                code="replica_start_failed",
            )

    def _hand_over(self, path: Path) -> None:
        if self.primary.os_user:
            user = pwd.getpwnam(self.primary.os_user)
            os.chown(path, user.pw_uid, user.pw_gid)

    def _run(
        self, cmd: list[str], env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run as the cluster's OS user (PostgreSQL refuses root), in the replica's home."""
        user = pwd.getpwnam(self.primary.os_user) if self.primary.os_user else None
        cwd = self.home if self.home.exists() else self.primary.home
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=str(cwd),
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8", **(env or {})},
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
