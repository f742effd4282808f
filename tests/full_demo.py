"""The full-scale demo load, started at the beginning of the run and checked when its test comes.

Loading the whole district takes minutes of one core, while most of the suite
waits on servers, browsers and PostgreSQL with a core to spare; so when
`tests/layers/test_demo_full.py` is selected, the load starts in a subprocess
as soon as the database is up, and the test waits for it and checks the result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from layers.store.db_admin import create_database, drop_database

FULL_DEMO_TEST = "test_demo_full.py"
WAIT_S = 1800


@dataclass
class FullDemoLoad:
    """The running (or finished) load: its database and its process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait(self) -> None:
        """Block until the load has finished; fail the test with its output if it failed."""
        try:
            code = self.process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the full demo load did not finish in {WAIT_S} s")
        if code != 0:
            pytest.fail(f"the full demo load failed ({code}):\n{self.log.read_text()[-4000:]}")


def selected(items: list[pytest.Item]) -> bool:
    """True when the full-scale check is among the tests to run."""
    return any(item.path.name == FULL_DEMO_TEST for item in items)


def start(server_url: str, workdir: Path, repo: Path) -> Iterator[FullDemoLoad]:
    """Create the database, start the load in the background, drop the database at the end."""
    name = f"wangge_test_full_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name)
    log = workdir / "full-demo.log"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.layers.full_demo_job", url, str(workdir / "keys.json")],
            cwd=repo,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield FullDemoLoad(url, process, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        drop_database(server_url, name)
