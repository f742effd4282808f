"""The server's database role: may read and write rows, may not change the schema.

The owner (who runs the migrations) creates the login role if it can and a
password is known, then grants it DML on every table and sequence of the
schema, and — through ALTER DEFAULT PRIVILEGES — on every table a later
migration creates, so nobody keeps a list.  The role must not be a superuser,
create roles or databases, bypass row security, or be a member of the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from layers.core.errors import ServiceRoleError
from layers.store.cluster import PrivateCluster
from layers.store.driver import psycopg_connection
from layers.store.settings import DatabaseSettings, SessionLimits

TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT, UPDATE"
READ_ONLY_TABLES = ("alembic_version", "spatial_ref_sys")
"""Tables the server reads but never writes: the schema version and PostGIS's CRS list."""
PRIVILEGED = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolbypassrls", "rolreplication")


@dataclass(frozen=True)
class ServiceLogin:
    """The server's role; `password` None when an operator made the role (only grants are ours)."""

    role: str
    password: str | None


def service_login(settings: DatabaseSettings) -> ServiceLogin | None:
    """Which role the server connects as, or None when none is configured.

    `WANGGE_SERVICE_DATABASE_URL` names the role; otherwise `service_role` with
    the private cluster's own password (cluster.json), or with an external
    `WANGGE_DATABASE_URL` the `WANGGE_SERVICE_PASSWORD`; without one the server
    stays on the owner.
    """
    if settings.service_database_url:
        role = make_url(settings.service_database_url).username
        if not role:
            raise ServiceRoleError("WANGGE_SERVICE_DATABASE_URL names no user", code="bad_url")
        return ServiceLogin(role, None)
    if not settings.database_url:
        return ServiceLogin(settings.service_role, PrivateCluster(settings).service_password())
    if settings.service_password is not None:
        return ServiceLogin(settings.service_role, settings.service_password.get_secret_value())
    return None


def provision(conn: Connection, *, login: ServiceLogin, limits: SessionLimits) -> None:
    """Create (or re-key) the role, check it holds no power, grant its rights; as the owner."""
    owner = conn.execute(text("SELECT current_user")).scalar_one()
    if login.role == owner:
        raise ServiceRoleError(
            f"the service role {login.role!r} is the schema owner: give the server a role "
            "of its own (WANGGE_SERVICE_DATABASE_URL or WANGGE_SERVICE_PASSWORD)",
            code="service_role_is_owner",
        )
    _ensure_login(conn, login)
    _refuse_privileged(conn, login.role, owner)
    _grant(conn, login.role)
    _set_limits(conn, login.role, limits)


def _ensure_login(conn: Connection, login: ServiceLogin) -> None:
    exists = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": login.role}
    ).first()
    if login.password is None:
        if not exists:
            raise ServiceRoleError(
                f"the role {login.role!r} of WANGGE_SERVICE_DATABASE_URL does not exist: "
                "create it (CREATE ROLE … LOGIN PASSWORD …) or set WANGGE_SERVICE_PASSWORD "
                "instead, and `wangge migrate` creates it",
                code="service_role_missing",
            )
        return
    verb = "ALTER" if exists else "CREATE"
    attributes = "" if exists else " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
    try:
        with conn.begin_nested():
            _utility(conn, f"{verb} ROLE {{}}{attributes} PASSWORD {{}}", login)
    except DBAPIError as exc:
        if exists:  # an operator's role whose password we may not set: theirs to keep right
            return
        raise ServiceRoleError(
            f"cannot create the service role {login.role!r} (the owner needs CREATEROLE): "
            "create it by hand, or set WANGGE_SERVICE_DATABASE_URL",
            code="service_role_missing",
        ) from exc


def _utility(conn: Connection, template: str, login: ServiceLogin) -> None:
    """CREATE/ALTER ROLE take no bound parameters: the driver quotes the name and a SCRAM hash.

    Hashing here keeps the clear password out of the server's statement log.
    """
    dbapi = psycopg_connection(conn)
    assert login.password is not None
    verifier = psycopg2.extensions.encrypt_password(
        login.password, login.role, dbapi, "scram-sha-256"
    )
    statement = sql.SQL(template).format(sql.Identifier(login.role), sql.Literal(verifier))
    conn.exec_driver_sql(statement.as_string(dbapi))


def _refuse_privileged(conn: Connection, role: str, owner: str) -> None:
    row = conn.execute(
        text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, "
            "pg_has_role(:r, :o, 'MEMBER') AS owner_member FROM pg_roles WHERE rolname = :r"
        ),
        {"r": role, "o": owner},
    ).one()
    powers = [name for name in (*PRIVILEGED, "owner_member") if getattr(row, name)]
    if powers:
        raise ServiceRoleError(
            f"the service role {role!r} has more rights than it needs ({', '.join(powers)}): "
            "give the server a plain LOGIN role",
            code="service_role_privileged",
        )


def _grant(conn: Connection, role: str) -> None:
    """Rights on what exists now and, as default privileges, on what migrations add later."""
    name = sql.Identifier(role)
    database = sql.Identifier(conn.execute(text("SELECT current_database()")).scalar_one())
    statements = [
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(database, name),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL(f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA public TO {{}}").format(name),
        sql.SQL(f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA public TO {{}}").format(name),
        sql.SQL(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_RIGHTS} ON TABLES TO {{}}"
        ).format(name),
        sql.SQL(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {SEQUENCE_RIGHTS} "
            "ON SEQUENCES TO {}"
        ).format(name),
    ]
    owned = conn.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename = ANY(:t) AND tableowner = current_user"
        ),
        {"t": list(READ_ONLY_TABLES)},
    ).scalars()
    for table in owned:
        statements.append(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(
                sql.Identifier(table), name
            )
        )
    dbapi = psycopg_connection(conn)
    for statement in statements:
        conn.exec_driver_sql(statement.as_string(dbapi))
    _refuse_create(conn, role)


def _refuse_create(conn: Connection, role: str) -> None:
    """PostgreSQL before 15 lets everyone create tables in `public`: take that back."""
    may = text("SELECT has_schema_privilege(:r, 'public', 'CREATE')")
    if not conn.execute(may, {"r": role}).scalar_one():
        return
    try:
        with conn.begin_nested():
            conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    except DBAPIError:
        pass
    if conn.execute(may, {"r": role}).scalar_one():
        raise ServiceRoleError(
            f"the service role {role!r} may create tables in schema public: "
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC (as the schema's owner)",
            code="service_role_privileged",
        )


def _set_limits(conn: Connection, role: str, limits: SessionLimits) -> None:
    """The role's own defaults, so a session outside the server is bounded too (best effort)."""
    dbapi = psycopg_connection(conn)
    for setting, value in (
        ("statement_timeout", limits.statement_timeout_ms),
        ("idle_in_transaction_session_timeout", limits.idle_in_transaction_timeout_ms),
    ):
        statement = sql.SQL("ALTER ROLE {} SET {} = {}").format(
            sql.Identifier(role), sql.Identifier(setting), sql.Literal(value)
        )
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(statement.as_string(dbapi))
        except DBAPIError:
            return  # the owner may not alter an operator's role: the server sets them anyway
