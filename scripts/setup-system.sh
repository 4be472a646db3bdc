#!/usr/bin/env bash
# Installs the Debian packages that tests and benchmarks use, only when missing, so that
# a fresh machine (CI included) needs nothing installed by hand.
set -euo pipefail
needed=()
for pair in openssl:openssl curl:curl ip:iproute2 unshare:util-linux; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || needed+=("$pkg")
done
for pkg in "${EXTRA_DEBIAN_PACKAGES[@]:-}"; do
  [[ -n "$pkg" ]] && ! dpkg -s "$pkg" >/dev/null 2>&1 && needed+=("$pkg")
done
if ((${#needed[@]})); then
  echo "setup-system: installing ${needed[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}"
fi
