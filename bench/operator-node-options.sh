#!/usr/bin/env bash
# Prints the node flags manifests/ give the operator's Deployment (its NODE_OPTIONS, from src/install/names.ts), so a
# benchmark runs Weft as users install it. Needs dist/ (make build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node --input-type=module -e "const m = await import('$root/dist/install/names.js'); process.stdout.write(m.OPERATOR_NODE_OPTIONS);"
