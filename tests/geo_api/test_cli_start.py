"""`wangge --help` starts fast because the commands import their heavy modules when they run.

The property tested is what gets imported, not a time (timings depend on the machine):
the help of the command and of every sub-command must not load the database,
web, geometry or map stacks, which cost seconds to import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "geopandas",
    "sqlalchemy",
    "geoalchemy2",
    "fastapi",
    "starlette",
    "uvicorn",
    "shapely",
    "pyogrio",
    "pyproj",
    "pandas",
    "numpy",
    "folium",
    "alembic",
)
"""Top-level packages whose import takes from a tenth of a second to several seconds."""

_EVERY_HELP = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from geo_api.cli import app

def paths(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, [*path, name])

runner = CliRunner()
results = {" ".join(p): runner.invoke(app, [*p, "--help"]).exit_code
           for p in paths(get_command(app), [])}
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(json.dumps({"results": results, "loaded": loaded}))
"""


def _python(*args: str, repo_root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo_root,
        timeout=120,
        check=False,
    )


def _imported(importtime_log: str) -> set[str]:
    """Top-level package names in a `-X importtime` log ("import time: self | total | name")."""
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name.split(".")[0])
    return names


def test_wangge_help_imports_no_heavy_module(repo_root: Path) -> None:
    """`python -m geo_api.cli --help` prints the commands without loading any heavy stack."""
    done = _python("-X", "importtime", "-m", "geo_api.cli", "--help", repo_root=repo_root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage" in done.stdout and "incidents" in done.stdout
    imported = _imported(done.stderr)
    assert "typer" in imported  # the log was read: the CLI's own framework is in it
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_every_sub_command_help_imports_no_heavy_module(repo_root: Path) -> None:
    """`wangge <group> [<command>] --help`, for every command there is, stays light too."""
    done = _python("-c", _EVERY_HELP, *HEAVY, repo_root=repo_root)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert {"db start", "demo load", "maps build", "serve", "export", "incidents import"} <= set(
        found["results"]
    )
    assert all(code == 0 for code in found["results"].values()), found["results"]
    assert found["loaded"] == []
