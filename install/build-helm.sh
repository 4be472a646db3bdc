#!/usr/bin/env bash
# Builds the helm CLI (a tagged helm.sh/helm/v3 release) from the Go module proxy, or reuses a
# cached build: Debian ships no helm package, and the chart's tests need `helm lint` and
# `helm template`. The cache key is the pinned version plus this script, so a new pin or a
# new way of building rebuilds it. Prints the binary's path as the last line of stdout.
#
#   bash install/build-helm.sh      # -> .cache/bin/helm-v3.22.1-<hash>/helm
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

HELM_VERSION=v3.22.1
# The Kubernetes version helm assumes without a cluster (`helm template`, `helm lint`): helm's
# Makefile stamps it from its client-go (v0.37 -> 1.37); without the stamp it is 1.20, which
# fails every chart with a kubeVersion constraint.
KUBE_MAJOR=1 KUBE_MINOR=37
export GOTOOLCHAIN=local CGO_ENABLED=0 # never download another toolchain; a static binary
command -v go >/dev/null || { echo "build-helm: go is not installed (need Go >= 1.25)" >&2; exit 1; }

hash=$(printf '%s\n' "$HELM_VERSION" | cat - "$0" | sha256sum | cut -c1-12)
out="$root/.cache/bin/helm-$HELM_VERSION-$hash"
if [[ -f "$out/.complete" ]]; then
  echo "$out/helm"
  exit 0
fi

mkdir -p "$out"
echo "build-helm: building helm $HELM_VERSION into $out (cold: several minutes on 2 cores)" >&2
start=$SECONDS
# nice: the machine is shared; a compile must not starve the test cluster or others' tests.
GOBIN="$out" nice -n 15 go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$KUBE_MAJOR -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$KUBE_MINOR \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$KUBE_MAJOR -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$KUBE_MINOR" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
echo "build-helm: done in $((SECONDS - start)) s" >&2
"$out/helm" version --short >&2
touch "$out/.complete"
for old in "$root"/.cache/bin/helm-*; do
  [[ $old != "$out" && -d $old ]] && rm -rf "$old"
done
echo "$out/helm"
