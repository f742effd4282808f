#!/usr/bin/env bash
# The whole test suite at other dates, to prove that nothing in it depends on the day it runs.
#   1. one year ahead of today;
#   2. starting four minutes before a month boundary in China Standard Time (the trends'
#      and KPIs' months), so the boundary passes while the suite runs.
# Each run uses a fresh private cluster (its own WANGGE_HOME) started under the same fake
# clock, so the database's now() moves with Python's. `faketime` is Debian's package.
# Usage: scripts/test-any-day.sh [pytest args…]   (make test-any-day)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m[any-day]\033[0m %s\n' "$*"; }
command -v faketime >/dev/null 2>&1 || { echo "faketime is missing: run make setup" >&2; exit 1; }
[ -z "${WANGGE_DATABASE_URL:-}" ] || { echo "unset WANGGE_DATABASE_URL: each run needs its own cluster under the fake clock" >&2; exit 2; }

run_at() {
  local label=$1 spec=$2; shift 2
  local home
  home=$(mktemp -d "${TMPDIR:-/tmp}/wangge-any-day.XXXXXX")
  say "$label: faketime '$spec' (WANGGE_HOME=$home)"
  local rc=0
  TZ=UTC WANGGE_HOME="$home" \
    faketime -f "$spec" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || rc=$?
  WANGGE_HOME="$home" .venv/bin/wangge db stop >/dev/null 2>&1 || true
  rm -rf "$home"
  [ "$rc" -eq 0 ] || { say "$label: FAILED (exit $rc)"; exit "$rc"; }
  say "$label: passed"
}

run_at "one year ahead" "+365d" "$@"
# 2027-03-01 00:00 in Beijing is 2027-02-28 16:00 UTC
run_at "across a month boundary (CST)" "@2027-02-28 15:56:00" "$@"
