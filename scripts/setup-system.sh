#!/usr/bin/env bash
# Installs the Debian packages that tests and benchmarks use, only when missing, so that
# a fresh machine (CI included) needs nothing installed by hand.
set -euo pipefail
needed=()
for pair in openssl:openssl curl:curl ip:iproute2 unshare:util-linux; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || needed+=("$pkg")
done
# nginx (with its stream module) and HAProxy: the benchmark's references, whose generated
# configurations the benchmark's own tests check with `nginx -t` and `haproxy -c`.
# containerd, runc, buildah, mmdebstrap: the opt-in real node (scripts/real-node.sh) and its
# locally built images (scripts/node-images.sh).
for pkg in nginx libnginx-mod-stream haproxy containerd runc buildah mmdebstrap "${EXTRA_DEBIAN_PACKAGES[@]:-}"; do
  [[ -n "$pkg" ]] && ! dpkg -s "$pkg" >/dev/null 2>&1 && needed+=("$pkg")
done
if ((${#needed[@]})); then
  echo "setup-system: installing ${needed[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  # RUNLEVEL=1: Debian's maintainer scripts must not start nginx/HAProxy as system services
  # (on :80); the benchmark runs its own instances.
  $SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${needed[@]}"
fi
