"""Back up a wangge database to one file, and restore it, with PostgreSQL's own tools.

A backup is `pg_dump`'s custom format: schema and every row, the API keys (as
hashes, so the demo's keys keep working) and the derived layers' caches.  Roles
and passwords are not in it; a restore leaves ownership to whoever restores
and the service role's rights to `wangge migrate`'s grants.

A restore is all or nothing: `pg_restore` writes SQL that `psql` runs inside
one transaction, committed only when the whole archive went through, so a
broken or truncated archive leaves the database as it was.  It refuses a
database that holds anything unless told to replace it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from layers.core.errors import BackupError, ConflictError, InvalidInputError
from layers.store.pg_binaries import PgBinaries

Progress = Callable[[str], None]
CHUNK = 1 << 20
REPLACE_SQL = (
    "DROP SCHEMA IF EXISTS public CASCADE;\n"
    "CREATE SCHEMA public;\n"
    "GRANT USAGE ON SCHEMA public TO PUBLIC;\n"
)
"""`--replace`: everything in the schema goes, inside the restore's own transaction."""
_DUMPING = re.compile(r'dumping contents of table "(?:[^"]+\.)?([^"]+)"')
_RESTORING = re.compile(r'processing data for table "(?:[^"]+\.)?([^"]+)"')
USER_RELATIONS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
"""
"""Tables, views and sequences that are not an extension's (PostGIS's own do not count)."""


@dataclass(frozen=True)
class BackupReport:
    """What `backup` wrote."""

    path: Path
    tables: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    """What `restore` did."""

    tables: int
    replaced: bool
    seconds: float


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries it (not argv)."""
    parsed = make_url(url)
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


libpq_target = _libpq
"""The URI and environment for a PostgreSQL client program (password in the environment)."""


def user_relations(url: str) -> int:
    """How many tables, views and sequences the database holds besides extensions' own."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(USER_RELATIONS)).scalar_one())
    finally:
        engine.dispose()


def backup(*, url: str, path: Path, bins: PgBinaries, progress: Progress) -> BackupReport:
    """`pg_dump -Fc` of the database at `url` into `path` (written whole or not at all)."""
    started = time.monotonic()
    uri, env = _libpq(url)
    total = user_relations(url)
    partial = path.with_name(path.name + ".partial")
    command = [str(bins.client("pg_dump")), "-Fc", "--verbose", "-f", str(partial), "-d", uri]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    errors: list[str] = []
    tables = _follow(proc.stderr, _DUMPING, "dumping", total, progress, errors)
    if proc.wait() != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {_first_error(errors)}")
    partial.replace(path)
    return BackupReport(path, tables, path.stat().st_size, round(time.monotonic() - started, 1))


def restore(
    *, url: str, path: Path, bins: PgBinaries, replace: bool, progress: Progress
) -> RestoreReport:
    """Restore `path` into the database at `url` in one transaction; ANALYZE afterwards."""
    started = time.monotonic()
    total = _tables_in(path, bins)
    present = user_relations(url)
    if present and not replace:
        raise ConflictError(
            f"the database is not empty ({present} tables, views or sequences): restore into "
            "an empty database, or pass --replace to drop everything in it first",
            code="database_not_empty",
        )
    uri, env = _libpq(url)
    prefix = "BEGIN;\n" + (REPLACE_SQL if replace and present else "")
    tables = _pipe(bins, path, uri, env, prefix, total, progress)
    progress("analysing the restored tables")
    subprocess.run(
        [str(bins.client("psql")), "-X", "-q", "-d", uri, "-c", "ANALYZE"],
        env=env,
        capture_output=True,
        check=False,
    )
    return RestoreReport(tables, bool(replace and present), round(time.monotonic() - started, 1))


def _tables_in(path: Path, bins: PgBinaries) -> int:
    """The number of tables with data in the archive; refuses what is not an archive."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file", code="backup_not_found")
    listed = subprocess.run(
        [str(bins.client("pg_restore")), "--list", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise InvalidInputError(
            f"{path} is not a backup made by `wangge backup` (pg_dump custom format): "
            f"{_first_error(listed.stderr.splitlines())}",
            code="not_a_backup",
        )
    return sum(1 for line in listed.stdout.splitlines() if " TABLE DATA " in line)


def _pipe(
    bins: PgBinaries, path: Path, uri: str, env: dict[str, str], prefix: str, total: int, progress
) -> int:
    """pg_restore's SQL into psql; COMMIT is sent only after pg_restore read the whole archive."""
    restore_args = ["--no-owner", "--no-privileges", "--verbose", "-f", "-", str(path)]
    reader = subprocess.Popen(
        [str(bins.client("pg_restore")), *restore_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    writer = subprocess.Popen(
        [str(bins.client("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    read_log, write_log = reader.stderr, writer.stderr  # named: the threads' lambdas keep the types
    assert reader.stdout and read_log and writer.stdin and write_log
    read_errors: list[str] = []
    counted: list[int] = []
    write_errors: list[bytes] = []
    threads = [
        threading.Thread(
            target=lambda: counted.append(
                _follow(_text(read_log), _RESTORING, "restoring", total, progress, read_errors)
            )
        ),
        threading.Thread(target=lambda: write_errors.append(write_log.read())),
    ]
    for thread in threads:
        thread.start()
    wrote = _feed(reader, writer.stdin, prefix)
    read_ok = reader.wait() == 0
    wrote = wrote and _close(writer.stdin, commit=read_ok)
    wrote = writer.wait() == 0 and wrote
    for thread in threads:
        thread.join()
    if not wrote:
        lines = b"".join(write_errors).decode(errors="replace").splitlines()
        raise BackupError(
            f"restore failed, nothing was changed: {_first_error(lines)}", code="restore_failed"
        )
    if not read_ok:
        raise BackupError(
            "the archive could not be read to the end, nothing was changed: "
            + _first_error(read_errors),
            code="restore_failed",
        )
    return counted[0] if counted else 0


def _feed(reader: subprocess.Popen[bytes], stdin: IO[bytes], prefix: str) -> bool:
    """Copy the SQL across; False when psql stopped at an error (its transaction is gone)."""
    assert reader.stdout is not None
    try:
        stdin.write(prefix.encode())
        shutil.copyfileobj(reader.stdout, stdin, CHUNK)
    except BrokenPipeError:
        reader.kill()
        return False
    return True


def _close(stdin: IO[bytes], *, commit: bool) -> bool:
    """End psql's input: with COMMIT when all was read, else without (the server rolls back)."""
    try:
        if commit:
            stdin.write(b"COMMIT;\n")
        stdin.close()
    except BrokenPipeError:
        return False
    return True


def _text(stream: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace")


def _follow(
    stream: IO[str] | None,
    pattern: re.Pattern[str],
    verb: str,
    total: int,
    progress: Progress,
    errors: list[str],
) -> int:
    """Turn the tool's --verbose lines into progress; keep the rest as possible errors."""
    done = 0
    for line in stream or ():
        match = pattern.search(line)
        if match:
            done += 1
            progress(f"{verb} {match.group(1)} ({done}/{max(total, done)})")
        elif "error" in line.lower() or "fatal" in line.lower():
            errors.append(line.strip())
    return done


def _first_error(lines: list[str]) -> str:
    """The first line that says what went wrong, without psql's `psql:<stdin>:N:` prefix."""
    for line in lines:
        if "ERROR" in line or "error" in line or "FATAL" in line:
            return re.sub(r"^psql:[^:]*:\d+:\s*", "", line.strip())[:500]
    return (lines[0].strip() if lines else "no message")[:500]
