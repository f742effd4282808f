"""Run the Alembic migrations programmatically (no alembic.ini needed in a clone)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations
from layers.store.db import make_engine
from layers.store.service_role import ServiceLogin, provision, service_login
from layers.store.settings import DatabaseSettings

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, target: str = "heads") -> None:
    """Upgrade the database at `url` to `target` (all heads by default)."""
    command.upgrade(alembic_config(url), target)


def grant_service_role(url: str, settings: DatabaseSettings) -> ServiceLogin | None:
    """As the owner at `url`: create the server's role if needed and grant its rights.

    Run after every upgrade: the grants cover what exists, the default
    privileges what later migrations add.  None when no role is configured.
    """
    login = service_login(settings)
    if login is None:
        return None
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            provision(conn, login=login, limits=settings.session_limits())
    finally:
        engine.dispose()
    return login


def current_heads(url: str) -> set[str]:
    """Revisions the database is at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
