"""The unprivileged system user a root-started private cluster runs as.

PostgreSQL refuses to run as root.  When `wangge` runs as root, the cluster under
`$WANGGE_HOME` belongs to a system user made here, who must be able to reach its
data directory: these are the only changes the cluster makes outside its home.
"""

from __future__ import annotations

import logging
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from layers.core.errors import ClusterError

logger = logging.getLogger(__name__)


def ensure_os_user(name: str) -> pwd.struct_passwd:
    """Return the unprivileged system user, creating it when missing (root only)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(
            f"cannot create the system user {name!r} to run PostgreSQL: {result.stderr.strip()}",
            code="os_user_missing",
        )
    return pwd.getpwnam(name)


def grant_traverse(path: Path) -> None:
    """Let other users traverse (not list) every ancestor of `path`, as PostgreSQL must.

    A directory made by `mktemp -d` is 0700; the cluster user could not reach its
    data directory inside it.  Adding only the execute bit keeps contents unlisted.
    """
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            logger.warning(
                "granting traverse permission (o+x) on %s for the cluster user", directory
            )
            directory.chmod(mode | stat.S_IXOTH)
