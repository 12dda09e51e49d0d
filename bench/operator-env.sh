#!/usr/bin/env bash
# Prints the environment manifests/ give the operator's Deployment besides NODE_OPTIONS (OPERATOR_ENV in
# src/install/names.ts), one NAME=value per line. Needs dist/ (make build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node --input-type=module -e "const m = await import('$root/dist/install/names.js'); for (const [k, v] of Object.entries(m.OPERATOR_ENV ?? {})) console.log(k + '=' + v);"
