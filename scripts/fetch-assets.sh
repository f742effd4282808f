#!/usr/bin/env bash
# Fetch the map pages' front-end assets (Leaflet, its plugins, icon fonts) from the npm registry
# at the versions pinned in maps/static/vendor.txt, check each tarball against the pinned sha512
# integrity, and unpack only the listed paths into maps/static/vendor/<package>@<version>/.
# District intranets have no internet: the service serves these files itself under /static.
#
# Idempotent and fast when done: a package whose folder carries a `.complete` stamp with the
# pinned integrity is skipped without touching the network.  `--force` fetches everything again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m[assets]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[assets] error:\033[0m %s\n' "$*" >&2; exit 1; }

manifest=maps/static/vendor.txt
dest=maps/static/vendor
force=0
[ "${1:-}" = "--force" ] && force=1
[ -f "$manifest" ] || die "missing $manifest"

tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT

fetched=0
present=0
while read -r name version integrity paths; do
  case "$name" in ''|'#'*) continue ;; esac
  target="$dest/$name@$version"
  if [ "$force" -eq 0 ] && [ "$(cat "$target/.complete" 2>/dev/null || true)" = "$integrity" ]; then
    present=$((present + 1))
    continue
  fi
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $name@$version (apt-get install npm)"
  [ -n "$tmp" ] || tmp=$(mktemp -d)
  say "fetching $name@$version from the npm registry"
  info=$(cd "$tmp" && npm pack "$name@$version" --json --silent 2>/dev/null) \
    || die "npm pack $name@$version failed (is the npm registry reachable?)"
  read -r file got < <(printf '%s' "$info" | python3 -c \
    'import json,sys; d=json.load(sys.stdin)[0]; print(d["filename"], d["integrity"])')
  [ "$got" = "$integrity" ] || die "$name@$version: integrity $got differs from the pinned $integrity"
  rm -rf "$target"
  mkdir -p "$target"
  # shellcheck disable=SC2086  # paths is a space-separated list on purpose
  members=$(for p in $paths; do printf 'package/%s ' "$p"; done)
  # shellcheck disable=SC2086
  tar -xzf "$tmp/$file" -C "$target" --strip-components=1 --no-same-owner $members
  printf '%s\n' "$integrity" > "$target/.complete"
  fetched=$((fetched + 1))
done < "$manifest"

if [ "$fetched" -gt 0 ]; then
  say "fetched $fetched package(s), $present already present, into $dest"
else
  say "front-end assets present ($present packages in $dest)"
fi
