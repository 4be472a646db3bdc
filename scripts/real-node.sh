#!/usr/bin/env bash
# An opt-in second Node for the cluster in a box: a real kubelet v1.34.4, talking CRI to
# containerd (Debian's 1.6), which runs pods with runc, networked by the CNI bridge plugin.
# The process agent (tlsgate-node) keeps running every other pod; this node is tainted and only
# pods that name it (spec.nodeName) and tolerate the taint run here.
#
#   scripts/real-node.sh up       needs a running cluster (npm run cluster:up); builds or reuses
#                                 the binaries and images, starts containerd and the kubelet,
#                                 waits for the Node to be Ready
#   scripts/real-node.sh down     stops them by PID, kills what runs in the node's cgroups,
#                                 unmounts, removes the network namespace and .cache/real-node/run
#   scripts/real-node.sh status   prints the PIDs and the Node
#   scripts/real-node.sh import ARCHIVE...   imports OCI archives into the node's containerd
#   scripts/real-node.sh restart-containerd|restart-kubelet   stops one daemon (SIGTERM) and starts
#                                 it again; containers keep running (scripts/real-node-demo.sh faults)
#
# Network: everything of this node lives in the network namespace `tlsgn-node`, which is the
# "host" for its pods: containerd runs there (so the CNI bridge tlsgn0 10.245.0.1/24, the pod
# veths and the streaming server are there), and one veth pair connects it to the host:
# tlsgn-host 10.245.255.1/30 (host side: the Node's InternalIP, where the kubelet serves) and
# eth0 10.245.255.2/30 in the namespace. The host routes 10.245.0.0/24 there, so the kubelet's
# probes and the tests reach pod IPs. No NAT, no default route out of the namespace.
# The kubelet stays in the host namespace to reach the apiserver on 127.0.0.1.
#
# Use the shared cluster only under `flock /tmp/tlsgate-cluster.lock`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

node_name=tlsgate-real-node
taint_key=tlsgate.test/real-node
netns=tlsgn-node
host_veth=tlsgn-host
host_ip=10.245.255.1
ns_ip=10.245.255.2
pod_cidr=10.245.0.0/24
pod_gateway=10.245.0.1
bridge=tlsgn0
# The cluster's Service range and the process agent's bridge address (test/cluster/state.ts).
service_cidr=10.96.0.0/16
agent_bridge_ip=10.244.0.1
# Pods' cgroups go under this top-level cgroup in every v1 hierarchy, so `down` can find and
# kill whatever still runs there.
cgroup_root=/tlsgate-node
cgroup_controllers=(cpu cpuacct cpuset memory devices freezer blkio pids systemd unified)

run=$root/.cache/real-node/run
cluster=$root/.cache/cluster
sock=$run/containerd/containerd.sock
logs=$run/logs

log() { echo "real-node: $*" >&2; }
die() { log "$*"; exit 1; }

pid_of() { [[ -f $run/$1.pid ]] && cat "$run/$1.pid"; }
alive() { local pid; pid=$(pid_of "$1") && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }
kubectl_() { kubectl --kubeconfig "$cluster/kubeconfig" "$@"; }
ctr_() { ctr --address "$sock" --namespace k8s.io "$@"; }

# Starts a daemon in its own session with only stdin/stdout/stderr open. Callers run this
# script under `flock /tmp/tlsgate-cluster.lock`, whose descriptor would otherwise be inherited
# by the kubelet and containerd (and containerd's shims) and hold the shared lock for as long
# as they run. Prints the daemon's PID (setsid does not fork: the subshell is no group leader).
detach() { # LOG COMMAND...
  local log=$1; shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null
    done
    # Appended: a restarted daemon keeps what its previous run logged.
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
  echo $!
}

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

setup_network() {
  ip netns add "$netns"
  ip link add "$host_veth" type veth peer name eth0 netns "$netns"
  ip addr add "$host_ip/30" dev "$host_veth"
  ip link set "$host_veth" up
  ip -n "$netns" link set lo up
  ip -n "$netns" addr add "$ns_ip/30" dev eth0
  ip -n "$netns" link set eth0 up
  # The namespace forwards between the host's veth and the pod bridge.
  ip netns exec "$netns" sysctl -qw net.ipv4.ip_forward=1
  ip route add "$pod_cidr" via "$ns_ip" dev "$host_veth"
  # Toward the host, only addresses the host itself owns (it does not forward): the Service
  # ClusterIPs, which the process agent puts on its bridge and relays to the ready endpoints
  # wherever they run (its kube-proxy), and that bridge's own address, where in-process
  # operators in the integration tests serve their config server.
  ip -n "$netns" route add "$service_cidr" via "$host_ip" dev eth0
  ip -n "$netns" route add "$agent_bridge_ip/32" via "$host_ip" dev eth0
}

setup_cgroups() {
  local c
  for c in "${cgroup_controllers[@]}"; do
    [[ -d /sys/fs/cgroup/$c ]] || continue
    mkdir -p "/sys/fs/cgroup/$c$cgroup_root"
  done
  # cpuset children start with no CPUs or memory nodes; inherit the parent's.
  cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset$cgroup_root/cpuset.cpus"
  cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset$cgroup_root/cpuset.mems"
}

write_configs() { # BIN_DIR KUBELET_HEALTHZ_PORT
  local bin=$1 healthz=$2
  mkdir -p "$run/containerd" "$run/cni/net.d" "$run/cni/ipam" "$run/kubelet" "$logs"
  cat > "$run/containerd/config.toml" <<EOF
version = 2
root = "$run/containerd/root"
state = "$run/containerd/state"

[grpc]
  address = "$sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$run/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  # Built here and imported; never pulled (no registry is reachable).
  sandbox_image = "tlsgate.test/pause:v1"
  # In the node's namespace, reachable from the kubelet on the host through the veth.
  stream_server_address = "$ns_ip"
  stream_server_port = "0"
  # Pod network namespaces are bind-mounted under the state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  # This machine withholds CAP_SYS_RESOURCE even from root, so lowering oom_score_adj fails
  # ("nsexec: failed to update /proc/self/oom_score_adj: Permission denied", seen by runc as
  # "can't get final child's PID from pipe: EOF"); clamp to containerd's own score (0) instead
  # of the sandbox's -998 and Guaranteed pods' -997.
  restrict_oom_score_adj = true

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$bin/cni"
    conf_dir = "$run/cni/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
EOF
  cat > "$run/cni/net.d/10-tlsgate-real-node.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "tlsgate-real-node",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$run/cni/ipam",
        "ranges": [[{ "subnet": "$pod_cidr", "gateway": "$pod_gateway" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
  cat > "$run/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Serves logs/exec/port-forward on the host end of the node's veth only.
address: $host_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
# The apiserver calls the kubelet without a client certificate (it has no
# --kubelet-client-certificate), so the kubelet lets anonymous callers in. It listens only on
# an address that exists on this machine.
authentication:
  anonymous: { enabled: true }
  webhook: { enabled: false }
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://$sock
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
cgroupsPerQOS: true
failSwapOn: false
registerWithTaints:
  - { key: $taint_key, value: "true", effect: NoSchedule }
# No cluster DNS yet, and the host's resolver is outside what pods may reach.
resolvConf: ""
# Images are imported, never pulled: garbage collection would lose them for good.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
# The kubelet runs in the host's network namespace: it must not add iptables chains there.
makeIPTablesUtilChains: false
serializeImagePulls: false
EOF
}

# A client certificate for system:node:<name> from the cluster's CA, and RBAC that grants it
# the system:node ClusterRole (the apiserver runs RBAC only, without the Node authorizer).
write_kubeconfig() {
  local pki=$run/kubelet/pki server
  mkdir -p "$pki"
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:$node_name" \
    -keyout "$pki/client.key" -out "$pki/client.csr" 2>/dev/null
  openssl x509 -req -in "$pki/client.csr" -CA "$cluster/pki/ca.crt" -CAkey "$cluster/pki/ca.key" \
    -CAcreateserial -CAserial "$pki/ca.srl" -days 2 -out "$pki/client.crt" 2>/dev/null
  chmod 600 "$pki/client.key"
  server=$(kubectl_ config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  kubectl config --kubeconfig "$run/kubelet/kubeconfig" set-cluster test --server "$server" \
    --certificate-authority "$cluster/pki/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$run/kubelet/kubeconfig" set-credentials node \
    --client-certificate "$pki/client.crt" --client-key "$pki/client.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$run/kubelet/kubeconfig" set-context node --cluster test --user node >/dev/null
  kubectl config --kubeconfig "$run/kubelet/kubeconfig" use-context node >/dev/null
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: $node_name }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:node:$node_name" }]
EOF
}

import_images() {
  local archive
  for archive in "$@"; do
    ctr_ images import "$archive" >&2 || die "ctr images import $archive failed"
  done
}

start_containerd() {
  # nsenter, not `ip netns exec`: only the network namespace changes, so the kubelet's volume
  # mounts (made later, in the host's mount namespace) stay visible to containerd and runc.
  detach "$logs/containerd.log" nsenter --net="/run/netns/$netns" containerd --config "$run/containerd/config.toml" > "$run/containerd.pid"
  local i
  for i in $(seq 1 100); do [[ -S $sock ]] && ctr --address "$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  alive containerd && [[ -S $sock ]] || { tail -n 30 "$logs/containerd.log" >&2; die "containerd did not start (log above: $logs/containerd.log)"; }
  log "containerd $(containerd --version | awk '{print $3}') up (pid $(pid_of containerd))"
}
start_kubelet() {
  local bin
  bin=$(cat "$run/bin")
  detach "$logs/kubelet.log" "$bin/kubelet" --config "$run/kubelet/config.yaml" --kubeconfig "$run/kubelet/kubeconfig" \
    --root-dir "$run/kubelet/root" --cert-dir "$run/kubelet/pki" \
    --hostname-override "$node_name" --node-ip "$host_ip" \
    --node-labels "$taint_key=true" --v=2 > "$run/kubelet.pid"
  log "kubelet started (pid $(pid_of kubelet))"
}
# A daemon stopped (SIGTERM, as a service manager would) and started again with the same
# configuration; the containers keep running under their shims meanwhile.
restart() { # containerd|kubelet
  alive "$1" || die "$1 is not running"
  stop_pid "$1" 10
  log "$1 stopped"
  "start_$1"
}

up() {
  [[ -f $cluster/state.json && -f $cluster/kubeconfig ]] || die "the cluster is not up (.cache/cluster/state.json missing): run npm run cluster:up first"
  if alive kubelet && alive containerd; then log "already up (containerd $(pid_of containerd), kubelet $(pid_of kubelet))"; return 0; fi
  [[ -d $run ]] && { log "a previous run left $run: cleaning it first"; down; }
  command -v containerd >/dev/null && command -v runc >/dev/null && command -v ctr >/dev/null \
    || die "containerd, runc and ctr are missing: apt-get install containerd runc (scripts/setup-system.sh)"

  local bin start=$SECONDS
  bin=$(bash scripts/node-build.sh | tail -n1) || die "building kubelet and the CNI plugins failed (output above)"
  mapfile -t image_lines < <(bash scripts/node-images.sh test)

  mkdir -p "$run" "$logs"
  setup_network
  setup_cgroups
  write_configs "$bin" "$(free_port)"
  write_kubeconfig

  echo "$bin" > "$run/bin"
  start_containerd
  local line i
  for line in "${image_lines[@]}"; do import_images "${line#* }"; done
  start_kubelet
  log "waiting for Node $node_name Ready"
  for i in $(seq 1 120); do
    alive kubelet || { tail -n 40 "$logs/kubelet.log" >&2; die "the kubelet exited (log above: $logs/kubelet.log)"; }
    [[ $(kubectl_ get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && break
    sleep 1
  done
  [[ $(kubectl_ get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] \
    || { grep -E '^E' "$logs/kubelet.log" | tail -n 20 >&2; die "Node $node_name not Ready after 120 s (errors above; $logs/kubelet.log)"; }
  log "Node $node_name Ready in $((SECONDS - start)) s"
}

stop_pid() { # NAME SECONDS
  local pid i
  pid=$(pid_of "$1") || return 0
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $(( $2 * 10 ))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "$1 (pid $pid) ignored SIGTERM for $2 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# Every process in the node's cgroups (the pods' containers and sandboxes).
cgroup_pids() { cat "/sys/fs/cgroup/pids$cgroup_root"/{,**/}cgroup.procs 2>/dev/null | sort -u; }

down() {
  shopt -s globstar nullglob
  stop_pid kubelet 10
  if alive containerd; then
    # Stop the pods' tasks through containerd, so that the shims exit on their own.
    local task
    for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$task" >/dev/null 2>&1 || true; done
  fi
  local pid
  for pid in $(cgroup_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  # The shims of this containerd (their command line names its socket) outlive it otherwise.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" || true); do
    grep -qF -- "$sock" "/proc/$pid/cmdline" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
  stop_pid containerd 10
  # Mounts under the run directory, deepest first: container rootfs, volumes, netns, shm.
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v r="$run" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  ip netns del "$netns" 2>/dev/null || true
  ip link del "$host_veth" 2>/dev/null || true
  local c d
  for c in "${cgroup_controllers[@]}"; do
    [[ -d /sys/fs/cgroup/$c$cgroup_root ]] || continue
    for d in $(find "/sys/fs/cgroup/$c$cgroup_root" -depth -type d); do rmdir "$d" 2>/dev/null || true; done
  done
  rm -rf "$run"
  if [[ -f $cluster/kubeconfig ]]; then
    kubectl_ delete node "$node_name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    kubectl_ delete clusterrolebinding "$node_name" --ignore-not-found >/dev/null 2>&1 || true
  fi
  log "down"
}

status() {
  local c
  for c in containerd kubelet; do
    if alive "$c"; then echo "$c: running (pid $(pid_of "$c"))"; else echo "$c: not running"; fi
  done
  [[ -f $cluster/kubeconfig ]] && kubectl_ get node "$node_name" -o wide 2>/dev/null || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  import) shift; import_images "$@" ;;
  restart-containerd) restart containerd ;;
  restart-kubelet) restart kubelet ;;
  *) echo "usage: scripts/real-node.sh up|down|status|import ARCHIVE...|restart-containerd|restart-kubelet" >&2; exit 2 ;;
esac
