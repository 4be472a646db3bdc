#!/usr/bin/env bash
# `npm run cluster:down`: stops everything cluster:up started (by PID) and removes its state.
set -euo pipefail
cd "$(dirname "$0")/.."
entry=dist/test/cluster/down.js
if [[ ! -f $entry ]]; then
  npx tsc -p tsconfig.json >&2 || true
fi
exec node --enable-source-maps "$entry"
