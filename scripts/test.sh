#!/usr/bin/env bash
# The project's one test command (README, .ci/run): installs what the tests need, builds,
# brings up the cluster in a box, runs every test once, and tears down the cluster it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
npm run build
# Node 22 and 24 LTS binaries (pinned, cached in .cache/node): fetched before the long run so
# that a registry outage fails the run at once instead of after it.
node22=$(bash scripts/fetch-node.sh 22)
node24=$(bash scripts/fetch-node.sh 24)

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

# The same code on Node 22 and 24 (the image's): the suites that exercise net, tls, http,
# node:cluster and child processes, where Node versions differ; about a minute each here.
# Both run even when one fails; either failing fails `npm test`. Translate, constructs and
# the operator run on Node 20 only (docs/test-cluster.md says why).
mapfile -t files < <(find dist/test/unit/proxy dist/test/unit/delivery dist/test/e2e/proxy \
  dist/test/e2e/standalone dist/test/e2e/delivery -name '*.test.js' | sort)
failed=()
for other in "$node22" "$node24"; do
  echo "== $("$other" -v): proxy, standalone and config delivery suites"
  "$other" --test --test-reporter=spec --test-concurrency=1 "${files[@]}" || failed+=("$("$other" -v)")
done
if ((${#failed[@]})); then echo "test.sh: tests failed on Node ${failed[*]}" >&2; exit 1; fi
