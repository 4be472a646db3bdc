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
# The upstream conformance suite and its backends (echo-basic, CoreDNS), cached by the pins'
# hash: built before the long run for the same reason, and the cluster's pods need the images.
bash scripts/build-conformance.sh all
# helm, for the chart's tests (helm lint, helm template, helm install on the cluster): built from
# the Go module proxy and cached the same way, here rather than inside the first test that needs it.
bash install/build-helm.sh >/dev/null

# Test files compiled from the sources as they are now: a test deleted or renamed in the
# sources leaves its old .js in dist/ (tsc never removes output), and listing dist/ would run it.
compiled_tests() { find "$@" -name '*.test.ts' | sort | sed -E 's#^#dist/#; s#\.ts$#.js#'; }

suites=(test/unit test/e2e test/conformance bench)
integration=false
cluster_was_up=false
if [[ -d test/integration ]] && ls test/integration/*.test.ts >/dev/null 2>&1; then
  integration=true
  # Tear down only a cluster this run started: one brought up by hand (or by another run
  # in this checkout) stays up for whoever is using it. (If it runs its pods on another Node
  # than this `node`, cluster:up fails here and leaves it alone.)
  if kubectl --kubeconfig .cache/cluster/kubeconfig get --raw /readyz >/dev/null 2>&1; then
    cluster_was_up=true
  else
    trap 'npm run cluster:down || true' EXIT
  fi
  npm run cluster:up
  suites+=(test/integration)
fi

# One node:test run so that one closing summary counts every test. Files are listed
# explicitly: Node 20 takes folders but no globs, Node 22+ takes globs but no folders.
mapfile -t files < <(compiled_tests "${suites[@]}")
node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"

# The same code on Node 22 and 24 (the image's): the suites that exercise net, tls, http,
# node:cluster and child processes, where Node versions differ; about a minute each here.
# Both run even when one fails; either failing fails `npm test`. Translate, constructs and
# the operator's unit tests run on Node 20 only (docs/test-cluster.md says why); the
# integration tests run again on Node 24 below.
mapfile -t files < <(compiled_tests test/unit/proxy test/unit/delivery test/e2e/proxy \
  test/e2e/standalone test/e2e/delivery)
failed=()
for other in "$node22" "$node24"; do
  echo "== $("$other" -v): proxy, standalone and config delivery suites"
  "$other" --test --test-reporter=spec --test-concurrency=1 "${files[@]}" || failed+=("$("$other" -v)")
done

# The operator and the in-cluster proxies on the image's Node: the cluster is restarted with
# its pods on Node 24 (cluster:up --node) and the integration tests run again with Node 24 as
# the test runner too. All of dist/test/integration, not only operator-*/e2e-*/conformance:
# the harness tests check that the pods really run Node 24, and the whole set takes about as
# long as the first integration run (~10 min here), which a 90-minute CI limit affords.
if $integration; then
  echo "== $("$node24" -v): integration suites, pods on the same Node"
  npm run cluster:down
  # A cluster that was up before this run ran on this `node` (cluster:up above checked it):
  # it is restarted on it, empty, whatever happens from here on.
  if $cluster_was_up; then trap 'npm run cluster:down || true; npm run cluster:up || true' EXIT; fi
  npm run cluster:up -- --node "$node24"
  pods_node=$(node -p 'JSON.parse(require("fs").readFileSync(".cache/cluster/state.json", "utf8")).podNode?.version')
  [[ $pods_node == "$("$node24" -v)" ]] || { echo "test.sh: the cluster's pods run Node $pods_node, not $("$node24" -v)" >&2; exit 1; }
  mapfile -t files < <(compiled_tests test/integration)
  "$node24" --test --test-reporter=spec --test-concurrency=1 "${files[@]}" || failed+=("$("$node24" -v) (integration)")
  # Which Node the operator and proxy pods really ran, and with which V8 flags: the agent logs
  # each container start with its argv (logs of deleted pods stay until cluster:down).
  starts=$(grep -hE '^--- [^ ]+ start #[0-9]+: [^ ]+( -[^ ]+)* [^ ]*/bin/tlsgate\.js( |$)' .cache/cluster/pods/*/logs/*.log || true)
  elsewhere=$(grep -vF ": $node24 " <<<"$starts" || true)
  proxy_flags=$(node --input-type=module -e 'const m = await import("./dist/src/proxy-process-env.js"); console.log(m.PROXY_NODE_FLAGS.join(" "))')
  unflagged=$(grep -E 'tlsgate\.js proxy( |$)' <<<"$starts" | grep -vF -- " $proxy_flags " || true)
  echo "== tlsgate CLI started in pods: $(grep -c 'tlsgate\.js operator' <<<"$starts") operator, $(grep -c 'tlsgate\.js proxy' <<<"$starts") proxy, $(grep -c . <<<"$starts") in all; on another Node than $node24: $(grep -c . <<<"$elsewhere"); proxies without $proxy_flags: $(grep -c . <<<"$unflagged")"
  if [[ -z $starts || -n $elsewhere ]]; then
    head -n 6 <<<"test.sh: the pods did not run the tlsgate CLI on $node24: ${elsewhere:-no start found}" >&2
    failed+=("$("$node24" -v) (the pods' Node)")
  fi
  if [[ -n $unflagged ]]; then
    head -n 6 <<<"test.sh: proxy pods started without $proxy_flags: $unflagged" >&2
    failed+=("$("$node24" -v) (the proxies' V8 flags)")
  fi
  # The upstream Gateway API conformance suite, unmodified, on the same cluster (pods on the
  # image's Node): GATEWAY-TLS and GATEWAY-HTTP with the features the GatewayClass claims.
  # It fails on a non-zero exit or a `--- FAIL` in its log (docs/conformance.md).
  echo "== upstream Gateway API conformance suite (GATEWAY-TLS, GATEWAY-HTTP)"
  node scripts/conformance.mjs --profiles GATEWAY-TLS,GATEWAY-HTTP || failed+=("$("$node24" -v) (upstream conformance)")
  if $cluster_was_up; then
    npm run cluster:down
    npm run cluster:up
    trap - EXIT
  fi
fi
if ((${#failed[@]})); then echo "test.sh: tests failed on Node ${failed[*]}" >&2; exit 1; fi
