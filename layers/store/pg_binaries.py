"""Find the PostgreSQL server binaries and check that PostGIS is installed for them.

Why a module of its own: the cluster, the test fixtures and `make setup` all ask
the same question ("which PostgreSQL, and is PostGIS there?") and should give the
same, actionable answer (the Debian package to install).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from layers.core.errors import ClusterError

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class PgBinaries:
    """Paths of the server programs of one PostgreSQL major version."""

    bindir: Path
    major: int

    @property
    def initdb(self) -> Path:
        """The `initdb` program."""
        return self.bindir / "initdb"

    @property
    def pg_ctl(self) -> Path:
        """The `pg_ctl` program."""
        return self.bindir / "pg_ctl"

    def client(self, name: str) -> Path:
        """A client program (`pg_dump`, `pg_restore`, `psql`); a clear error when missing."""
        path = self.bindir / name
        if not path.exists():
            raise ClusterError(
                f"{name} not found in {self.bindir}: install the Debian package "
                f"`postgresql-client-{self.major}` (run `make setup`) or set WANGGE_PG_BINDIR",
                code="pg_missing",
            )
        return path

    def sharedir(self) -> Path:
        """Where extensions' control files live."""
        pg_config = self.bindir / "pg_config"
        if pg_config.exists():
            out = subprocess.run(
                [str(pg_config), "--sharedir"], capture_output=True, text=True, check=False
            )
            if out.returncode == 0:
                return Path(out.stdout.strip())
        return Path(f"/usr/share/postgresql/{self.major}")


def _major_of(bindir: Path) -> int:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    if not match:
        raise ClusterError(f"cannot read the PostgreSQL version in {bindir}", code="pg_missing")
    return int(match.group(1))


def _candidates(explicit: Path | None) -> list[Path]:
    if explicit is not None:
        return [explicit]
    found = sorted(
        (p for p in DEBIAN_PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    return found


@cache
def find_pg_binaries(explicit: Path | None = None) -> PgBinaries:
    """The newest PostgreSQL with PostGIS installed; a clear error naming the package otherwise."""
    candidates = [
        c for c in _candidates(explicit) if (c / "initdb").exists() and (c / "pg_ctl").exists()
    ]
    if not candidates:
        where = f" in {explicit}" if explicit else ""
        raise ClusterError(
            f"PostgreSQL server binaries (initdb, pg_ctl) not found{where}: "
            "install the Debian package `postgresql` (run `make setup`) "
            "or set WANGGE_PG_BINDIR, or point WANGGE_DATABASE_URL at an existing database",
            code="pg_missing",
        )
    for bindir in candidates:
        bins = PgBinaries(bindir, _major_of(bindir))
        if (bins.sharedir() / "extension" / "postgis.control").exists():
            return bins
    major = PgBinaries(candidates[0], _major_of(candidates[0])).major
    raise ClusterError(
        f"PostGIS is not installed for PostgreSQL {major}: install the Debian package "
        f"`postgresql-{major}-postgis-3` (run `make setup`)",
        code="postgis_missing",
    )
