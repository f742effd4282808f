#!/usr/bin/env bash
# Install what is missing on a Debian machine, and nothing twice:
#   - Debian packages: PostgreSQL server, PostGIS for it, GDAL's tools, Chromium;
#   - the virtual environment .venv with wangge and its dependencies (pinned by constraints.txt).
# Safe to run again: each step checks first and only acts on what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
bindir=$(pg_bindir || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  missing+=(postgresql)
fi
major=""
if [ -n "$bindir" ]; then major=$(basename "$(dirname "$bindir")"); fi
if [ -z "$major" ] || [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  missing+=("postgresql-${major:-15}-postgis-3")
fi
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# CJK glyphs for the map pages' screenshots in headless Chromium (names are Chinese)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)  # HTTP load generator of `make bench`
command -v faketime >/dev/null 2>&1 || missing+=(faketime)  # `make test-any-day`

if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: ${missing[*]}"
    SUDO=sudo
  fi
  stamp=/var/lib/apt/periodic/wangge-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
    $SUDO apt-get update -q
    $SUDO mkdir -p "$(dirname "$stamp")" && $SUDO touch "$stamp"
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages present (PostgreSQL ${major}, PostGIS, GDAL, Chromium)"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
want=$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16)
have=$(cat .venv/.wangge-deps 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  say "installing Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
  echo "$want" > .venv/.wangge-deps
else
  say "Python dependencies up to date"
fi
if [ -x scripts/fetch-assets.sh ]; then
  scripts/fetch-assets.sh
fi
say "done"
