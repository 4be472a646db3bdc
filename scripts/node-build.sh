#!/usr/bin/env bash
# Builds the real node's binaries from Go tools modules, or reuses a cached build:
#   kubelet                              test/cluster/node/kubelet (k8s.io/kubernetes, same pin as
#                                        test/cluster/kube, so both share GOCACHE entries)
#   bridge, host-local, loopback, portmap test/cluster/node/cni (containernetworking/plugins)
#
# A sibling module instead of a line in test/cluster/kube: adding kubelet there would change
# that module's go.sum and so the control plane's cache key, rebuilding kube-apiserver for
# everyone who uses the process agent.
#
# The cache key is the hash of both modules' go.mod/go.sum plus this script. Output:
#   .cache/bin/node-k8s-<version>-cni-<version>-<hash>/{kubelet,cni/{bridge,host-local,loopback,portmap}}
# and prints that directory as the last line of stdout.
# Go builds run under `nice -n 15` (NODE_BUILD_NICE overrides): the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export GOTOOLCHAIN=local CGO_ENABLED=0 # never download another toolchain; static binaries
command -v go >/dev/null || { echo "node-build: go is not installed (need Go >= 1.26)" >&2; exit 1; }
nice_level=${NODE_BUILD_NICE:-15}

kubelet_mod=test/cluster/node/kubelet
cni_mod=test/cluster/node/cni
k8s_version=$(cd "$kubelet_mod" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
cni_version=$(cd "$cni_mod" && go list -m -f '{{.Version}}' github.com/containernetworking/plugins)
[[ -n $k8s_version && -n $cni_version ]] || { echo "node-build: cannot read the pinned versions from $kubelet_mod/go.mod and $cni_mod/go.mod" >&2; exit 1; }

hash=$(cat "$kubelet_mod/go.mod" "$kubelet_mod/go.sum" "$cni_mod/go.mod" "$cni_mod/go.sum" "$0" | sha256sum | cut -c1-12)
out="$root/.cache/bin/node-k8s-$k8s_version-cni-$cni_version-$hash"

if [[ -f "$out/.complete" ]]; then
  echo "node-build: reusing $out" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$out/cni"
timed=()
if [[ -x /usr/bin/time ]]; then timed=(/usr/bin/time -f 'node-build: %e s wall, %U s user + %S s system CPU, peak RSS %M KiB'); fi

echo "node-build: building CNI plugins $cni_version into $out/cni" >&2
start=$SECONDS
(cd "$cni_mod" && nice -n "$nice_level" "${timed[@]}" go build -trimpath -ldflags='-s -w' -o "$out/cni/" \
  github.com/containernetworking/plugins/plugins/main/bridge \
  github.com/containernetworking/plugins/plugins/ipam/host-local \
  github.com/containernetworking/plugins/plugins/main/loopback \
  github.com/containernetworking/plugins/plugins/meta/portmap) >&2
echo "node-build: CNI plugins done in $((SECONDS - start)) s" >&2

# Same -X version stamps as upstream's hack/lib/golang.sh: the kubelet reports its version in
# Node status (kubeletVersion), and version skew checks read it.
minor=${k8s_version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
echo "node-build: building kubelet $k8s_version (cold: tens of minutes on 2 cores; shares GOCACHE with kube-apiserver)" >&2
start=$SECONDS
(cd "$kubelet_mod" && nice -n "$nice_level" "${timed[@]}" go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" \
  -o "$out/kubelet" k8s.io/kubernetes/cmd/kubelet) >&2
echo "node-build: kubelet done in $((SECONDS - start)) s" >&2

"$out/kubelet" --version >&2
touch "$out/.complete"
for old in "$root"/.cache/bin/node-k8s-*; do
  [[ $old != "$out" && -d $old ]] && rm -rf "$old"
done
echo "$out"
