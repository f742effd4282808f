"""Settings the data layer needs: where the database is, or where to keep our own.

These are pydantic-settings classes with the `WANGGE_` prefix.  They are never
instantiated at import time here: `geo_api.settings.Settings` builds them once
and hands them down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CLUSTER_PORT = 54329


class DatabaseSettings(BaseSettings):
    """Which PostgreSQL to use: `WANGGE_DATABASE_URL`, else the private cluster in `home`."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of an existing PostGIS database."
    )
    home: Path = Field(
        default=Path(".wangge"),
        description="Directory for the private cluster, its logs and the demo keys.",
    )
    db_port: int | None = Field(
        default=None,
        ge=1024,
        le=65535,
        description="Port of the private cluster; unset = 54329, or a free one if taken.",
    )
    db_name: str = Field(default="wangge", description="Database name in the private cluster.")
    pg_bindir: Path | None = Field(
        default=None, description="PostgreSQL server binaries (default: newest found)."
    )
    cluster_os_user: str = Field(
        default="wangge",
        description="Unprivileged OS user that runs the private cluster when run as root.",
    )
    pool_size: int = Field(default=10, ge=1, le=200)
