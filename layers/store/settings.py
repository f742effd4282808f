"""Settings the data layer needs: where the database is, or where to keep our own.

These are pydantic-settings classes with the `WANGGE_` prefix.  They are never
instantiated at import time here: `geo_api.settings.Settings` builds them once
and hands them down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CLUSTER_PORT = 54329
DEFAULT_SERVICE_ROLE = "wangge_service"


@dataclass(frozen=True)
class SessionLimits:
    """Limits on the service's database sessions (0 = none), in milliseconds."""

    statement_timeout_ms: int
    idle_in_transaction_timeout_ms: int

    def options(self) -> str:
        """The libpq `options` string that sets them when a connection opens."""
        return (
            f"-c statement_timeout={self.statement_timeout_ms} "
            f"-c idle_in_transaction_session_timeout={self.idle_in_transaction_timeout_ms}"
        )


class DatabaseSettings(BaseSettings):
    """Which PostgreSQL to use: `WANGGE_DATABASE_URL`, else the private cluster in `home`.

    Two roles reach it.  The owner (`WANGGE_DATABASE_URL`'s user, or the private
    cluster's superuser) runs the migrations and the CLI's bulk work; the
    server connects as the service role, which may read and write rows but not
    change the schema (`WANGGE_SERVICE_DATABASE_URL`, or `service_role` with
    `service_password`, created and granted by `wangge migrate`).
    """

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of an existing PostGIS database, as its owner "
        "(migrations, demo load, imports, backup).",
    )
    service_database_url: str | None = Field(
        default=None,
        description="URL the server connects with, as a role without DDL rights "
        "(default: the owner's URL with `service_role` and `service_password`).",
    )
    service_role: str = Field(
        default=DEFAULT_SERVICE_ROLE,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Login role of the server; `wangge migrate` creates it and grants its rights.",
    )
    service_password: SecretStr | None = Field(
        default=None,
        description="Password of `service_role` (the private cluster keeps its own in "
        "cluster.json); needed with WANGGE_DATABASE_URL unless WANGGE_SERVICE_DATABASE_URL is set.",
    )
    statement_timeout_s: float = Field(
        default=30.0,
        ge=0,
        le=86400,
        description="Longest statement of the server's sessions (0 = no limit); "
        "long jobs raise their own with SET LOCAL.",
    )
    idle_in_transaction_timeout_s: float = Field(
        default=60.0,
        ge=0,
        le=86400,
        description="A server session idle inside a transaction this long is ended (0 = never).",
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
    replica_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a hot standby of WANGGE_DATABASE_URL, as the owner: "
        "read-only faces (OGC pages and tiles, maps, analytics, geocode) read there. "
        "Unset: the private replica when `wangge db start --replica` made one.",
    )
    replica_reads: bool = Field(
        default=True, description="Route read-only faces to the replica when there is one."
    )
    replica_max_lag_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="A replica further behind the primary than this serves no reads "
        "(they go to the primary until it catches up).",
    )
    replica_recheck_s: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="How often the server re-measures the replica's lag and availability.",
    )

    def session_limits(self) -> SessionLimits:
        """The server's session limits in the unit PostgreSQL takes."""
        return SessionLimits(
            round(self.statement_timeout_s * 1000), round(self.idle_in_transaction_timeout_s * 1000)
        )
