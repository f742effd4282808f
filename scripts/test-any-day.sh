#!/usr/bin/env bash
# The whole test suite at other dates, to prove that nothing in it depends on the day it runs.
#   1. one year ahead of today;
#   2. starting four minutes before a month boundary in China Standard Time (the trends'
#      and KPIs' months), so the boundary passes while the suite runs.
# Each run uses a fresh private cluster (its own WANGGE_HOME). Every wangge process (the
# tests, the servers and CLI commands they start, GDAL, Chromium) runs at the fake date.
# PostgreSQL itself runs at the real date: under libfaketime its processes disagree on
# the time (pg_ctl never sees the server start) and its timers stop firing (a
# statement_timeout never comes). The database's now() is therefore a different day
# from the wall clock the tests see, which is what the suite must survive: wangge takes
# "now" from the app's clock, never from either. `faketime` is Debian's package.
# Usage: scripts/test-any-day.sh [pytest args…]   (make test-any-day)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m[any-day]\033[0m %s\n' "$*"; }
command -v faketime >/dev/null 2>&1 || { echo "faketime is missing: run make setup" >&2; exit 1; }
[ -z "${WANGGE_DATABASE_URL:-}" ] || { echo "unset WANGGE_DATABASE_URL: each run needs its own cluster under the fake clock" >&2; exit 2; }

# PostgreSQL at the real date (see above). Chromium, an outside client of the pages, is
# started without libfaketime by tests/maps/conftest.py (under it, its crash handler spins).
PG_COMMANDS=postgres,pg_ctl,initdb,pg_dump,pg_restore,pg_isready,psql,createdb,dropdb

run_at() {
  local label=$1 spec=$2; shift 2
  local home
  home=$(mktemp -d "${TMPDIR:-/tmp}/wangge-any-day.XXXXXX")
  say "$label: faketime '$spec' (WANGGE_HOME=$home)"
  local rc=0
  # A real monotonic clock (timed waits), a select-based time.sleep (scripts/faketime/).
  TZ=UTC WANGGE_HOME="$home" FAKETIME_DONT_FAKE_MONOTONIC=1 \
    FAKETIME_SKIP_CMDS="$PG_COMMANDS" PYTHONPATH="$PWD/scripts/faketime" \
    faketime -f "$spec" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || rc=$?
  WANGGE_HOME="$home" .venv/bin/wangge db stop >/dev/null 2>&1 || true
  rm -rf "$home"
  [ "$rc" -eq 0 ] || { say "$label: FAILED (exit $rc)"; exit "$rc"; }
  say "$label: passed"
}

run_at "one year ahead" "+365d" "$@"
# 2027-03-01 00:00 in Beijing is 2027-02-28 16:00 UTC
run_at "across a month boundary (CST)" "@2027-02-28 15:56:00" "$@"
