#!/usr/bin/env bash
# Builds the OCI images the real node runs, locally (no container registry is reachable here),
# each cached by the content that goes into it. Output: OCI archives in .cache/real-node/images/
# (`ctr images import` reads them), plus a line "<name> <archive>" per image on stdout.
#
#   scripts/node-images.sh test      tlsgate.test/pause:v1 (the sandbox image), tlsgate.test/hello:v1
#   scripts/node-images.sh base      tlsgate.test/node-base:24-bookworm: Debian bookworm (mmdebstrap
#                                    --variant=minbase) + the pinned Node 24 (scripts/fetch-node.sh 24)
#                                    + npm; the stand-in for node:24-bookworm-slim
#   scripts/node-images.sh tlsgate   tlsgate.test/tlsgate:dev: the project's Dockerfile, built with
#                                    buildah on that base (--build-arg BASE_IMAGE=...)
#   scripts/node-images.sh all
#
# Go builds run under `nice -n 15` (NODE_BUILD_NICE overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=local CGO_ENABLED=0
nice_level=${NODE_BUILD_NICE:-15}
images=$root/.cache/real-node/images
tools=$root/.cache/real-node/tools
mkdir -p "$images" "$tools"

# npm for the base image: the version that wrote package-lock.json here; the integrity is the
# registry's, checked again after `npm pack`.
npm_version=11.19.1
npm_integrity=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==
# Debian snapshot of the base: the suite and variant; packages come from the host's apt mirror.
debian_suite=bookworm

log() { echo "node-images: $*" >&2; }

# Archives of older recipes are dead weight (the base is 320 MB).
remove_others() { # PREFIX KEEP
  local old
  for old in "$images/$1"-*.tar; do [[ $old != "$2" && -f $old ]] && rm -f "$old"; done
  return 0
}

build_tools() {
  (cd test/cluster/node/images && nice -n "$nice_level" go build -trimpath -ldflags='-s -w' -o "$tools/" ./pause ./hello ./ociimage)
}

# A deterministic tar of a staging directory (fixed owners and times, sorted), for a layer.
tar_layer() { # DIR OUT
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$1" -cf "$2" .
}

build_test_images() {
  build_tools
  local key
  key=$(cat "$tools/pause" "$tools/hello" "$tools/ociimage" | sha256sum | cut -c1-12)
  if [[ ! -f $images/pause-$key.tar ]]; then
    "$tools/ociimage" -name tlsgate.test/pause:v1 -out "$images/pause-$key.tar" -entrypoint /pause -user 65535:65535 -file "$tools/pause=/pause:0755"
  fi
  if [[ ! -f $images/hello-$key.tar ]]; then
    "$tools/ociimage" -name tlsgate.test/hello:v1 -out "$images/hello-$key.tar" -entrypoint /hello -user 65532:65532 -file "$tools/hello=/hello:0755"
  fi
  echo "tlsgate.test/pause:v1 $images/pause-$key.tar"
  echo "tlsgate.test/hello:v1 $images/hello-$key.tar"
}

# The base's key: its recipe (this function's text, not the whole script, so that editing
# another image's recipe does not rebuild Debian), the pins, and the archive builder. The
# Debian mirror's point releases are not in it: delete the archive to pick them up.
base_key() { # NODE_VERSION
  { printf '%s\n' "$debian_suite" "$1" "$npm_version" "$npm_integrity"; declare -f build_base_image; cat "$tools/ociimage"; } | sha256sum | cut -c1-12
}

build_base_image() {
  build_tools
  local node_bin node_version key out work
  node_bin=$(bash scripts/fetch-node.sh 24)
  node_version=$("$node_bin" -v)
  key=$(base_key "$node_version")
  out=$images/node-base-$key.tar
  if [[ ! -f $out ]]; then
    work=$(mktemp -d "$root/.cache/real-node/.base-XXXXXX")
    trap 'rm -rf "$work"' RETURN
    log "mmdebstrap $debian_suite (minbase) into $work/debian.tar"
    local start=$SECONDS
    SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
      --include=ca-certificates --aptopt='Acquire::Retries "3"' \
      --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
      "$debian_suite" "$work/debian.tar" >&2
    log "debian rootfs done in $((SECONDS - start)) s ($(du -h "$work/debian.tar" | cut -f1))"

    # Node and npm where the official node images put them.
    mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules"
    cp "$node_bin" "$work/node/usr/local/bin/node"
    local packed
    packed=$(npm pack "npm@$npm_version" --json --pack-destination "$work" 2>"$work/npm.err") || { cat "$work/npm.err" >&2; return 1; }
    [[ $(node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].integrity)' <<<"$packed") == "$npm_integrity" ]] \
      || { log "npm@$npm_version: integrity differs from the pinned $npm_integrity"; return 1; }
    tar -xzf "$work/npm-$npm_version.tgz" -C "$work"
    mv "$work/package" "$work/node/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
    tar_layer "$work/node" "$work/node.tar"

    "$tools/ociimage" -name tlsgate.test/node-base:24-bookworm -out "$out" -layer "$work/debian.tar" -layer "$work/node.tar" \
      -env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -env NODE_VERSION="${node_version#v}" \
      -cmd node
    remove_others node-base "$out"
  fi
  echo "tlsgate.test/node-base:24-bookworm $out"
}

# buildah keeps its own storage under .cache so that nothing lands in /var/lib/containers.
buildah_() { buildah --root "$root/.cache/real-node/buildah/storage" --runroot "$root/.cache/real-node/buildah/run" --storage-driver overlay "$@"; }

build_tlsgate_image() {
  local base_line base_archive key out sources
  base_line=$(build_base_image | tail -n1)
  base_archive=${base_line#* }
  # What the Dockerfile copies, as it is in the working tree (buildah copies uncommitted and
  # untracked files too), plus the Dockerfile, the base and this recipe.
  sources=$(find Dockerfile package.json package-lock.json tsconfig.json cdk8s.yaml src cli operator proxy imports bin -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  key=$( { echo "$sources"; basename "$base_archive"; declare -f build_tlsgate_image; } | sha256sum | cut -c1-12)
  out=$images/tlsgate-$key.tar
  if [[ ! -f $out ]]; then
    log "buildah: loading the base $base_archive"
    buildah_ pull --quiet "oci-archive:$base_archive" >/dev/null
    buildah_ tag "$(buildah_ images --quiet --filter reference=tlsgate.test/node-base:24-bookworm | head -n1)" localhost/tlsgate-node-base:24-bookworm 2>/dev/null \
      || buildah_ tag "$(buildah_ pull --quiet "oci-archive:$base_archive")" localhost/tlsgate-node-base:24-bookworm
    log "buildah: building the Dockerfile on localhost/tlsgate-node-base:24-bookworm (npm ci reaches the registry over the host network)"
    # Build-time only, nothing of it lands in the image: the host's npm cache (npm still checks
    # every tarball's integrity), and, where this machine reaches the registry through a TLS
    # proxy whose CA Node is told about (NODE_EXTRA_CA_CERTS), that bundle as npm's cafile.
    local build_mounts=(--volume "${npm_config_cache:-$HOME/.npm}:/root/.npm")
    if [[ -n ${NODE_EXTRA_CA_CERTS:-} ]]; then
      printf 'cafile=/etc/tlsgate-build/ca.crt\n' > "$root/.cache/real-node/build-npmrc"
      build_mounts+=(--volume "$NODE_EXTRA_CA_CERTS:/etc/tlsgate-build/ca.crt:ro" --volume "$root/.cache/real-node/build-npmrc:/usr/local/etc/npmrc:ro")
    fi
    mkdir -p "${npm_config_cache:-$HOME/.npm}"
    local start=$SECONDS
    buildah_ bud --quiet --network host --layers=false --pull-never "${build_mounts[@]}" \
      --build-arg BASE_IMAGE=localhost/tlsgate-node-base:24-bookworm -t tlsgate.test/tlsgate:dev -f Dockerfile . >&2
    log "buildah: image built in $((SECONDS - start)) s"
    rm -f "$out.tmp"
    buildah_ push --quiet tlsgate.test/tlsgate:dev "oci-archive:$out.tmp:tlsgate.test/tlsgate:dev" >&2
    mv "$out.tmp" "$out"
    remove_others tlsgate "$out"
    # The previous build lost its tag to this one: drop it (and the intermediate stage).
    buildah_ rmi --prune >/dev/null 2>&1 || true
  fi
  echo "tlsgate.test/tlsgate:dev $out"
}

case "${1:-all}" in
  test) build_test_images ;;
  base) build_base_image ;;
  tlsgate) build_tlsgate_image ;;
  all) build_test_images; build_tlsgate_image ;;
  *) echo "usage: scripts/node-images.sh test|base|tlsgate|all" >&2; exit 2 ;;
esac
