#!/usr/bin/env bash
# `npm run cluster:up`: builds (or reuses) the control-plane binaries, makes sure the TypeScript
# of the harness is compiled, then starts etcd, kube-apiserver, kube-controller-manager and the
# node agent (test/cluster/up.ts). Idempotent: a healthy running cluster is left as it is.
#   npm run cluster:up -- --node PATH   pods run PATH as their `node` (default: this `node`);
#   fails, leaving the cluster alone, when it is already up with pods on another Node.
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir=$(bash scripts/cluster-build.sh | tail -n1) || { echo "cluster-up: building the control-plane binaries failed (output above)" >&2; exit 1; }
# The conformance base manifest's images (upstream echo-basic and CoreDNS), which the node
# agent's image table runs from .cache/bin/gateway-api-conformance.
bash scripts/build-conformance.sh images >/dev/null || { echo "cluster-up: building the conformance images (echo-basic, coredns) failed (output above)" >&2; exit 1; }

# The harness runs from dist/. Recompile when a harness source is newer than its output; tsc
# still emits when another engineer's half-written file has type errors, so only a missing
# output is fatal.
entry=dist/test/cluster/up.js
if [[ ! -f $entry ]] || [[ -n $(find test/cluster test/images test/helpers -name '*.ts' -newer "$entry" -print -quit) ]]; then
  echo "cluster-up: compiling TypeScript (npx tsc)" >&2
  npx tsc -p tsconfig.json >&2 || echo "cluster-up: tsc reported errors (see above); continuing with what it emitted" >&2
fi
[[ -f $entry ]] || { echo "cluster-up: $entry was not produced by tsc" >&2; exit 1; }

exec node --enable-source-maps "$entry" --bin "$bin_dir" "$@"
