#!/usr/bin/env bash
# Builds what the upstream Gateway API conformance suite needs, from the Go modules that pin it,
# or reuses a cached build:
#   conformance.test  the suite's test binary (test/conformance: sigs.k8s.io/gateway-api/conformance)
#   echo-basic        the suite's backend, sigs.k8s.io/gateway-api/conformance/echo-basic, static
#   coredns           CoreDNS for the base manifest's coredns Deployment (test/conformance/coredns)
#   list-conformance-tests  the suite's tests with their features and profiles, as JSON
#                     (test/conformance/cmd; scripts/conformance.mjs counts results with it)
#
#   bash scripts/build-conformance.sh [images|all]
#     images: echo-basic and coredns (what cluster:up needs); all (default): everything.
#     The images are always built: the stable link below must never name a build without them.
#
# The cache key is the hash of both modules' go.mod/go.sum/*.go, this script and the Go version,
# so the binaries are rebuilt exactly when a pin (or how we build) changes. Output:
#   .cache/bin/gateway-api-<version>-<hash>/{conformance.test,echo-basic,coredns,list-conformance-tests}
# with the stable link .cache/bin/gateway-api-conformance -> that directory (the node agent's
# image table runs echo-basic and coredns from there), and prints the directory as the last line
# of stdout. Each binary is built only when asked for and missing, so cluster:up (which needs
# only the two images) does not wait for the suite's six-minute test binary.
#
# GOMODCACHE and GOCACHE stay at Go's defaults so that they persist between runs. Builds run
# one at a time under `nice`: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
self=$root/scripts/build-conformance.sh

export GOTOOLCHAIN=local CGO_ENABLED=0 # never download another toolchain; static binaries
command -v go >/dev/null || { echo "build-conformance: go is not installed (need Go >= 1.26: the suite's go.mod says go 1.26.0)" >&2; exit 1; }

suite_mod=test/conformance
coredns_mod=test/conformance/coredns
case ${1:-all} in
  images) targets=(echo-basic coredns) ;;
  all) targets=(echo-basic coredns conformance.test list-conformance-tests) ;;
  *) echo "build-conformance: unknown argument \"$1\" (images or all)" >&2; exit 2 ;;
esac

suite_version=$(cd "$suite_mod" && go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api/conformance)
[[ -n $suite_version ]] || { echo "build-conformance: cannot read the pinned suite version from $suite_mod/go.mod" >&2; exit 1; }
hash=$( (for mod in "$suite_mod" "$coredns_mod"; do cat "$mod/go.mod" "$mod/go.sum" "$mod"/*.go; done; cat "$suite_mod"/cmd/*/*.go "$self"; go version) | sha256sum | cut -c1-12)
out="$root/.cache/bin/gateway-api-$suite_version-$hash"
link="$root/.cache/bin/gateway-api-conformance"
mkdir -p "$out"

timed=()
if [[ -x /usr/bin/time ]]; then timed=(/usr/bin/time -f "build-conformance: %e s wall, %U s user + %S s system CPU, peak RSS %M KiB"); fi

# Builds into a temporary name first: an interrupted build never leaves a half binary behind a
# valid cache key.
build() {
  local name=$1 mod=$2 command=$3 package=$4 # command: "build", or "test -c" (split on purpose)
  if [[ -x $out/$name ]]; then
    echo "build-conformance: reusing $out/$name" >&2
    return
  fi
  echo "build-conformance: building $name (cold: minutes on 2 cores)" >&2
  (cd "$mod" && "${timed[@]}" nice -n 10 go $command -trimpath -ldflags='-s -w' -o "$out/$name.tmp.$$" "$package") >&2
  mv "$out/$name.tmp.$$" "$out/$name"
}

for target in "${targets[@]}"; do
  case $target in
    # -c: the test binary, run later with the suite's own flags (scripts/conformance.mjs).
    conformance.test) build conformance.test "$suite_mod" "test -c" . ;;
    echo-basic) build echo-basic "$suite_mod" build sigs.k8s.io/gateway-api/conformance/echo-basic ;;
    coredns) build coredns "$coredns_mod" build . ;;
    list-conformance-tests) build list-conformance-tests "$suite_mod" build ./cmd/list-conformance-tests ;;
  esac
done

# The stable link moves atomically (a rename), so a pod starting meanwhile sees one build.
ln -sfn "$(basename "$out")" "$link.tmp.$$"
mv -T "$link.tmp.$$" "$link"
# Builds for older pins are dead weight (about 100 MB each).
for old in "$root"/.cache/bin/gateway-api-v*; do
  [[ $old != "$out" && -d $old ]] && rm -rf "$old"
done
echo "$out"
