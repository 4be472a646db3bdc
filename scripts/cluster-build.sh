#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go tools modules in
# test/cluster/{etcd,kube} (go.mod/go.sum pin the versions), or reuses a cached build.
#
# The cache key is the hash of both modules' go.mod and go.sum plus this script, so the
# binaries are rebuilt exactly when a pin (or how we build) changes. Output:
#   .cache/bin/k8s-<version>-etcd-<version>-<hash>/{etcd,kube-apiserver,kube-controller-manager}
# and prints that directory as the last line of stdout (cluster-up reads it).
#
# GOMODCACHE and GOCACHE stay at Go's defaults so that they persist between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export GOTOOLCHAIN=local CGO_ENABLED=0 # never download another toolchain; static binaries
command -v go >/dev/null || { echo "cluster-build: go is not installed (need Go >= 1.25)" >&2; exit 1; }

kube_mod=test/cluster/kube
etcd_mod=test/cluster/etcd
k8s_version=$(cd "$kube_mod" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$etcd_mod" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
[[ -n $k8s_version && -n $etcd_version ]] || { echo "cluster-build: cannot read the pinned versions from $kube_mod/go.mod and $etcd_mod/go.mod" >&2; exit 1; }

hash=$(cat "$kube_mod/go.mod" "$kube_mod/go.sum" "$etcd_mod/go.mod" "$etcd_mod/go.sum" "$0" | sha256sum | cut -c1-12)
out="$root/.cache/bin/k8s-$k8s_version-etcd-$etcd_version-$hash"

if [[ -f "$out/.complete" ]]; then
  echo "cluster-build: reusing $out" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$out"
# Peak memory via GNU time when present (CI images may lack it; the build does not need it).
timed=()
if [[ -x /usr/bin/time ]]; then timed=(/usr/bin/time -f 'cluster-build: %e s wall, %U s user + %S s system CPU, peak RSS %M KiB'); fi

echo "cluster-build: building etcd $etcd_version into $out" >&2
start=$SECONDS
(cd "$etcd_mod" && "${timed[@]}" go build -trimpath -ldflags='-s -w' -o "$out/etcd" go.etcd.io/etcd/server/v3) >&2
echo "cluster-build: etcd done in $((SECONDS - start)) s" >&2

# Same -X version stamps as upstream's hack/lib/golang.sh, so /version tells the truth.
minor=${k8s_version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
echo "cluster-build: building kube-apiserver and kube-controller-manager $k8s_version (cold: tens of minutes on 2 cores)" >&2
start=$SECONDS
(cd "$kube_mod" && "${timed[@]}" go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) >&2
echo "cluster-build: kube done in $((SECONDS - start)) s" >&2

"$out/kube-apiserver" --version >&2
"$out/etcd" --version >&2
touch "$out/.complete"
# Builds for older pins are dead weight (about 220 MB each).
for old in "$root"/.cache/bin/k8s-*; do
  [[ $old != "$out" && -d $old ]] && rm -rf "$old"
done
echo "$out"
