#!/usr/bin/env bash
# Builds the proxy benchmark's Go load side (bench/proxy/go: load generator and backends,
# standard library only), or reuses a cached build. The cache key is the hash of the module's
# files plus this script, so the binary is rebuilt exactly when its source (or how we build)
# changes. Output: .cache/bin/tlsgate-bench-loadgen-<hash>, printed as the last line of stdout
# (bench/proxy/load-side.ts reads it). Never committed (.cache is git-ignored).
#
# GOCACHE stays at Go's default so that a rebuild after a source change takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
self=$root/scripts/build-bench-loadgen.sh

export GOTOOLCHAIN=local CGO_ENABLED=0 # never download another toolchain; a static binary

module=bench/proxy/go
hash=$( (cd "$module" && find . -type f \( -name '*.go' -o -name 'go.mod' \) | LC_ALL=C sort | xargs cat; cat "$self") | sha256sum | cut -c1-12)
out="$root/.cache/bin/tlsgate-bench-loadgen-$hash"

if [[ -x $out ]]; then
  echo "build-bench-loadgen: reusing $out" >&2
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null; then
  for candidate in /usr/local/go/bin/go /usr/lib/go/bin/go; do
    [[ -x $candidate ]] && PATH="$(dirname "$candidate"):$PATH" && break
  done
fi
command -v go >/dev/null || { echo "build-bench-loadgen: go is not installed (need Go >= 1.24; the benchmark's load side is written in Go)" >&2; exit 1; }

mkdir -p "$root/.cache/bin"
start=$SECONDS
# Built into a temporary name first: a run interrupted mid-build leaves no half binary behind
# a valid cache key.
(cd "$module" && go build -trimpath -ldflags='-s -w' -o "$out.tmp.$$" .)
mv "$out.tmp.$$" "$out"
echo "build-bench-loadgen: built $out in $((SECONDS - start)) s ($(go version))" >&2
for old in "$root"/.cache/bin/tlsgate-bench-loadgen-*; do
  # Older builds only; another run's build in progress (*.tmp.*) is left alone.
  [[ $old != "$out" && $old != *.tmp.* && -f $old ]] && rm -f "$old"
done
echo "$out"
