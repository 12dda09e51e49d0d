#!/usr/bin/env bash
# Prints a Python interpreter with grpcio (gRPC C-core, the e2e suite's second, stricter xDS peer), creating a
# virtualenv with the pinned grpcio from PyPI once, in the cache.
set -euo pipefail
version=1.85.1
cache=${WEFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}/python-grpcio-$version
if ! "$cache/bin/python" -c 'import grpc' >/dev/null 2>&1; then
  echo "installing grpcio $version from PyPI into $cache" >&2
  rm -rf "$cache"
  python3 -m venv "$cache" >&2
  "$cache/bin/pip" install --quiet --disable-pip-version-check "grpcio==$version" >&2
fi
echo "$cache/bin/python"
