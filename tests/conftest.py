"""The real database for the tests, started once per run.

Without `WANGGE_DATABASE_URL` the project's private PostGIS cluster is started
(as `make demo` would).  A template database is migrated from empty and loaded
with the scaled-down demo once; each test module then works on its own clone
(`CREATE DATABASE … TEMPLATE`), so modules can write freely without seeing each
other's changes.  With `WANGGE_DATABASE_URL`, the same happens on that server
(its user needs CREATEDB and CREATEROLE).

Migrations and the demo load run as the owner; every app the tests build
connects as the service role (`WANGGE_SERVICE_PASSWORD` is set for the run, so
`DatabaseSettings(database_url=…)` resolves to the service role), which proves
the role's rights are enough.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from geo_api.app import create_app
from geo_api.migrate import grant_service_role, upgrade
from geo_api.settings import Settings
from layers.core.now import ClockFrom
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, load_demo
from layers.store.cluster import PrivateCluster
from layers.store.db import (
    make_engine,
    make_sessionmaker,
    resolve_database_url,
    resolve_service_url,
)
from layers.store.db_admin import create_database, drop_database
from layers.store.settings import DatabaseSettings
from tests import city, full_demo

FULL_DEMO_SELECTED = pytest.StashKey[bool]()
TEST_SCALE = 0.05
TEST_SEED = 7
TEST_NOW = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
"""The demo's history ends here in tests, so deadlines and ages are reproducible."""
TEST_CLOCK = ClockFrom(TEST_NOW)
"""The clock of every test app and of tests that act as a server would: it starts at
`TEST_NOW` whatever day the suite runs, and only moves forward during the run."""


def pytest_configure(config: pytest.Config) -> None:
    """Keep this run's temporary files apart from other pytest runs on the machine.

    pytest prunes old `/tmp/pytest-of-<user>/pytest-N` folders when a run starts, so
    concurrent runs by the same user can delete each other's private clusters.
    """
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        root = Path(__file__).resolve().parent.parent / ".wangge" / "pytest-tmp"
        root.mkdir(parents=True, exist_ok=True)
        config.option.basetemp = str(root / f"run-{os.getpid()}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove this run's temporary folder."""
    base = config.option.basetemp
    if base and f"run-{os.getpid()}" in str(base):
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class DemoDatabase:
    """A database made for the tests: its URL and the demo keys that work in it."""

    url: str
    keys: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        """Authorization header for a staff role (`resident` = no header)."""
        return {} if role == "resident" else {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the PostgreSQL server the tests use (the private cluster unless told otherwise).

    As the owner.  Also decides the service role's password for the run: the
    private cluster's own, else WANGGE_SERVICE_PASSWORD, else a new one.
    """
    settings = DatabaseSettings()
    url = resolve_database_url(settings, start=True)
    if settings.database_url:
        secret = settings.service_password
        password = secret.get_secret_value() if secret else secrets.token_urlsafe(24)
    else:
        password = PrivateCluster(settings).service_password()
    os.environ["WANGGE_SERVICE_PASSWORD"] = password
    return url


def service_url(url: str) -> str:
    """The same database as the server's role sees it (rows, no DDL)."""
    return resolve_service_url(DatabaseSettings(database_url=url))


@pytest.fixture(scope="session")
def template_db(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoDatabase]:
    """Migrated from empty and loaded with the demo at scale 0.05, once per run."""
    name = f"wangge_test_tpl_{os.getpid()}"
    drop_database(server_url, name)
    url = create_database(server_url, name)
    upgrade(url)
    grant_service_role(url, DatabaseSettings(database_url=url))  # clones inherit the grants
    keys_file = tmp_path_factory.mktemp("home") / "demo-keys.json"
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            load_demo(
                session=session,
                options=DemoOptions(seed=TEST_SEED, scale=TEST_SCALE, now=TEST_NOW),
                keys_path=keys_file,
                report=Progress(lambda _m: None),
            )
    finally:
        engine.dispose()
    yield DemoDatabase(url, json.loads(keys_file.read_text()))
    drop_database(server_url, name)


def clone_database(server_url: str, template: DemoDatabase, label: str) -> DemoDatabase:
    """A private copy of the template database."""
    name = f"wangge_test_{label}_{uuid.uuid4().hex[:8]}"
    template_name = make_url(template.url).database
    assert template_name
    return DemoDatabase(create_database(server_url, name, template_name), template.keys)


@pytest.fixture(scope="module")
def test_db(server_url: str, template_db: DemoDatabase) -> Iterator[DemoDatabase]:
    """This module's own copy of the demo database."""
    db = clone_database(server_url, template_db, "mod")
    yield db
    drop_database(server_url, make_url(db.url).database or "")


@pytest.fixture(scope="module")
def engine(test_db: DemoDatabase) -> Iterator[Engine]:
    """An engine on this module's database."""
    eng = make_engine(test_db.url, pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def app(test_db: DemoDatabase) -> FastAPI:
    """The application wired to this module's database (as the service role), clock at `TEST_NOW`."""
    return create_app(Settings(db=DatabaseSettings(database_url=test_db.url)), clock=TEST_CLOCK)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app (lifespan hooks run)."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def empty_db(server_url: str) -> Iterator[str]:
    """A brand-new empty database (no schema), dropped afterwards."""
    name = f"wangge_test_empty_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's top directory."""
    return Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note whether the full-scale demo check runs, so its load can start at once."""
    config.stash[FULL_DEMO_SELECTED] = full_demo.selected(items)


@pytest.fixture(scope="session", autouse=True)
def full_demo_load(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    repo_root: Path,
) -> Iterator[full_demo.FullDemoLoad | None]:
    """The full-scale demo, loading in the background from the first test on (when selected)."""
    if not request.config.stash.get(FULL_DEMO_SELECTED, False):
        yield None
        return
    server = request.getfixturevalue("server_url")
    yield from full_demo.start(server, tmp_path_factory.mktemp("full-demo"), repo_root)


@pytest.fixture(scope="session")
def tiny_city(
    server_url: str, template_db: DemoDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[city.City]:
    """A copy of the template with its district replaced by a tiny city (2 districts, 1 year)."""
    from layers.demo.city_load import CityOptions

    options = CityOptions(
        districts=2,
        years=1,
        scale=TEST_SCALE,
        seed=TEST_SEED,
        now=TEST_NOW,
        replace=True,
        workers=1,
    )
    db = clone_database(server_url, template_db, "city")
    keys = tmp_path_factory.mktemp("city") / "demo-keys.json"
    yield from city.load_tiny_city(server_url, db.url, options, keys)
