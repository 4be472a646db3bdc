#!/usr/bin/env bash
# The project's one test command (README, .ci/run): installs what the tests need, builds,
# brings up the cluster in a box, runs every test once, and tears down the cluster it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
npm run build

suites=(dist/test/unit dist/test/e2e dist/bench)
if [[ -d test/integration ]] && ls test/integration/*.test.ts >/dev/null 2>&1; then
  # Tear down only a cluster this run started: one brought up by hand (or by another run
  # in this checkout) stays up for whoever is using it.
  if ! kubectl --kubeconfig .cache/cluster/kubeconfig get --raw /readyz >/dev/null 2>&1; then
    trap 'npm run cluster:down || true' EXIT
  fi
  npm run cluster:up
  suites+=(dist/test/integration)
fi

# One node:test run so that one closing summary counts every test. Files are listed
# explicitly: Node 20 takes folders but no globs, Node 22+ takes globs but no folders.
mapfile -t files < <(find "${suites[@]}" -name '*.test.js' | sort)
node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
