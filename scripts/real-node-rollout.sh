#!/usr/bin/env bash
# A proxy rollout under live traffic on the opt-in real node (test/cluster/node/rollout.ts):
# new connections every 20 ms and long-lived ones held across a GatewayParameters change, through
# the Gateway Service's LoadBalancer address; prints the counts of completed, refused and reset
# connections and exits non-zero unless all completed. Needs the cluster and the real node up and
# a build (npm run build). Run under the cluster lock:
#   flock /tmp/tlsgate-cluster.lock bash scripts/real-node-rollout.sh
# KEEP_NAMESPACE=1 keeps the namespace for a look afterwards; KILL_PROXY=1 then SIGKILLs one proxy
# container and prints what the clients saw until it was back (reported apart from the verdict).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
run=$root/.cache/real-node/run
[[ -f $run/kubelet.pid ]] || { echo "real-node-rollout: the real node is not up (scripts/real-node.sh up)" >&2; exit 1; }
[[ -f dist/test/cluster/node/rollout.js ]] || { echo "real-node-rollout: dist/ is missing: npm run build" >&2; exit 1; }
# The proxy image: the one in the node's containerd, else the newest archive scripts/node-images.sh
# built (IMAGE_REBUILD=1 rebuilds it from the working tree first).
if [[ ${IMAGE_REBUILD:-0} == 1 ]]; then
  bash scripts/real-node.sh import "$(bash scripts/node-images.sh tlsgate | tail -n1 | cut -d' ' -f2)"
elif ! ctr --address "$run/containerd/containerd.sock" --namespace k8s.io images ls -q | grep -qx 'tlsgate.test/tlsgate:dev'; then
  archive=$(ls -t "$root"/.cache/real-node/images/tlsgate-*.tar 2>/dev/null | head -n1)
  [[ -n $archive ]] || { echo "real-node-rollout: no tlsgate image: bash scripts/node-images.sh tlsgate" >&2; exit 1; }
  bash scripts/real-node.sh import "$archive"
fi
exec node dist/test/cluster/node/rollout.js
