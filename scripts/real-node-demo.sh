#!/usr/bin/env bash
# Shows what the opt-in real node (scripts/real-node.sh) does with two workloads, and prints
# the evidence (pod status, logs, exec, port-forward, the container's process as the kernel
# sees it). Run under the cluster lock, with the real node up:
#   flock /tmp/tlsgate-cluster.lock bash scripts/real-node-demo.sh hello|service|faults|proxy|clean
#
#   hello   the hello image (static Go binary) as non-root with a read-only root and no capabilities
#   service a Deployment of hello on the real node behind a LoadBalancer Service: its ClusterIP and
#           ingress address from the host, the ClusterIP and the kubernetes Service from a pod there
#   faults  with the service workload running and a request to its LoadBalancer address every
#           100 ms: a container killed with SIGKILL, a pod evicted, the kubelet restarted, containerd
#           restarted; what the kubelet reports and how many requests failed during each
#   proxy   the tlsgate image (built from the Dockerfile by scripts/node-images.sh tlsgate) as the
#           operator renders the proxy Deployment (test/cluster/node/proxy-workload.ts) for a
#           Gateway whose class no controller serves, so nothing else acts on it
#   clean   deletes the demo namespace
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ns=real-node-demo
run=$root/.cache/real-node/run
k() { kubectl --kubeconfig "$root/.cache/cluster/kubeconfig" "$@"; }
ctr_() { ctr --address "$run/containerd/containerd.sock" --namespace k8s.io "$@"; }
say() { printf '\n== %s\n' "$*"; }

[[ -f $run/kubelet.pid ]] || { echo "real-node-demo: the real node is not up (scripts/real-node.sh up)" >&2; exit 1; }
ensure_ns() { k get namespace "$ns" >/dev/null 2>&1 || k create namespace "$ns" >/dev/null; }

# How the kernel sees a pod's container: user, capabilities, no_new_privs, seccomp, cgroup,
# whether / is read-only, and a sysctl in its network namespace.
inspect_container() { # POD CONTAINER
  local id pid
  id=$(k -n "$ns" get pod "$1" -o jsonpath="{.status.containerStatuses[?(@.name==\"$2\")].containerID}")
  id=${id#containerd://}
  pid=$(ctr_ tasks ls | awk -v id="$id" '$1 == id {print $2}')
  [[ -n $pid ]] || { echo "container $2 of $1 has no running task"; return 0; }
  echo "container $id, host pid $pid"
  grep -E '^(Uid|Gid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status"
  echo "cgroup: $(grep memory "/proc/$pid/cgroup")"
  echo "root mount options: $(awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo")"
  echo "net.ipv4.ip_unprivileged_port_start in its netns: $(nsenter -t "$pid" -n cat /proc/sys/net/ipv4/ip_unprivileged_port_start)"
}

hello() {
  ensure_ns
  k -n "$ns" delete pod hello --ignore-not-found >/dev/null
  local start=$SECONDS ip
  k -n "$ns" apply -f test/cluster/node/manifests/hello-pod.yaml >/dev/null
  k -n "$ns" wait pod/hello --for=condition=Ready --timeout=120s >/dev/null
  say "hello Ready in $((SECONDS - start)) s"
  k -n "$ns" get pod hello -o wide
  ip=$(k -n "$ns" get pod hello -o jsonpath='{.status.podIP}')
  say "curl http://$ip:8080/ from the host"
  curl -sS --max-time 5 "http://$ip:8080/"
  say "kubectl logs hello"
  k -n "$ns" logs hello
  say "kubectl exec hello -- /hello (a second copy, in the pod's network namespace: the port is taken)"
  k -n "$ns" exec hello -- /hello 2>&1 | tail -n 2 || true
  say "kubectl port-forward pod/hello 18181:8080"
  k -n "$ns" port-forward pod/hello 18181:8080 >/dev/null 2>&1 &
  local pf=$!
  sleep 2
  curl -sS --max-time 5 http://127.0.0.1:18181/ || true
  kill "$pf" 2>/dev/null || true
  say "the container as the kernel sees it"
  inspect_container hello hello
}

proxy() {
  ensure_ns
  local image_line archive image gw=demo uid secret workload start
  image_line=$(bash scripts/node-images.sh tlsgate | tail -n1)
  image=${image_line%% *}; archive=${image_line#* }
  bash scripts/real-node.sh import "$archive"
  k apply -f - >/dev/null <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: $gw, namespace: $ns }
spec:
  gatewayClassName: tlsgate-real-node-demo
  listeners: [{ name: tls, protocol: TLS, port: 443, tls: { mode: Passthrough } }]
EOF
  uid=$(k -n "$ns" get gateway "$gw" -o jsonpath='{.metadata.uid}')
  workload=tlsgate-$gw
  secret=$workload-client-cert
  # A throwaway client certificate: the proxy reads it at start; no config server answers.
  local tmp
  tmp=$(mktemp -d)
  # The proxy checks that its certificate names its Gateway (a URI SAN), as the operator's do.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=real-node-demo \
    -addext "subjectAltName=URI:tlsgate://gateway/$ns/$gw" -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
  k -n "$ns" delete secret "$secret" --ignore-not-found >/dev/null
  k -n "$ns" create secret generic "$secret" --from-file=tls.crt="$tmp/tls.crt" --from-file=tls.key="$tmp/tls.key" --from-file=ca.crt="$tmp/tls.crt" >/dev/null
  rm -rf "$tmp"
  node dist/test/cluster/node/proxy-workload.js "$ns" "$gw" "$uid" "$image" > "$run/proxy-workload.yaml"
  start=$SECONDS
  k apply -f "$run/proxy-workload.yaml"
  say "waiting for the proxy pod to start (60 s)"
  local i pod=''
  for i in $(seq 1 60); do
    pod=$(k -n "$ns" get pods -l gateway.networking.k8s.io/gateway-name=$gw -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)
    [[ -n $pod && -n $(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.running}' 2>/dev/null) ]] && break
    sleep 1
  done
  sleep 10 # let a probe or two run
  say "after $((SECONDS - start)) s"
  k -n "$ns" get pods -o wide
  [[ -n $pod ]] || return 1
  k -n "$ns" get pod "$pod" -o jsonpath='{range .status.containerStatuses[*]}{.name}: ready={.ready} restarts={.restartCount} state={.state}{"\n"}{end}'
  say "kubectl logs $pod"
  k -n "$ns" logs "$pod" --tail=20 || true
  say "events"
  k -n "$ns" get events --field-selector involvedObject.name="$pod" --sort-by=.lastTimestamp | tail -n 8
  say "the proxy container as the kernel sees it"
  inspect_container "$pod" proxy
  say "kubectl exec: can uid 65532 bind port 443 in the pod (the sysctl), and write to / (read-only)?"
  k -n "$ns" exec "$pod" -c proxy -- node -e '
    const fs = require("node:fs");
    try { fs.writeFileSync("/probe", "x"); console.log("wrote /probe: root filesystem is WRITABLE"); } catch (e) { console.log("write /probe:", e.code); }
    require("node:net").createServer().once("error", (e) => { console.log("listen :443:", e.code); process.exit(1); })
      .listen(443, function () { console.log("listening on :443 as uid", process.getuid()); this.close(); });' || true
}

# The tlsgate image for the client pod: the one in the node's containerd, else the newest archive
# scripts/node-images.sh built (not rebuilt here: that follows the working tree).
ensure_tlsgate_image() {
  ctr_ images ls -q | grep -qx 'tlsgate.test/tlsgate:dev' && return 0
  local archive
  archive=$(ls -t "$root"/.cache/real-node/images/tlsgate-*.tar 2>/dev/null | head -n1)
  [[ -n $archive ]] || { echo "real-node-demo: no tlsgate image: bash scripts/node-images.sh tlsgate" >&2; return 1; }
  bash scripts/real-node.sh import "$archive"
}

service() {
  ensure_ns
  ensure_tlsgate_image
  local start=$SECONDS cluster_ip ingress i
  k -n "$ns" delete pod hello-client --ignore-not-found >/dev/null
  k -n "$ns" apply -f test/cluster/node/manifests/hello-service.yaml >/dev/null
  k -n "$ns" rollout status deploy/hello --timeout=120s >/dev/null
  say "Deployment hello available in $((SECONDS - start)) s"
  k -n "$ns" get pods,services,endpointslices -o wide
  cluster_ip=$(k -n "$ns" get service hello -o jsonpath='{.spec.clusterIP}')
  for i in $(seq 1 30); do
    ingress=$(k -n "$ns" get service hello -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
    [[ -n $ingress ]] && break
    sleep 1
  done
  say "from the host: the ClusterIP $cluster_ip and the LoadBalancer ingress $ingress (round-robin over both pods)"
  for i in 1 2 3 4; do
    printf '%s -> %s' "$cluster_ip" "$(curl -sS --max-time 5 "http://$cluster_ip/")"; echo
    printf '%s -> %s' "$ingress" "$(curl -sS --max-time 5 "http://$ingress/")"; echo
  done
  say "from a pod on the real node (hello-client): the Service by HELLO_SERVICE_HOST, the API by the kubernetes Service"
  k -n "$ns" wait pod/hello-client --for=jsonpath='{.status.phase}'=Succeeded --timeout=90s >/dev/null \
    || { k -n "$ns" logs hello-client || true; return 1; }
  k -n "$ns" logs hello-client
}

# Requests to URL every 100 ms until the file STOP exists; one line per request: ok|fail.
traffic() { # URL OUT STOP
  while [[ ! -e $3 ]]; do
    if curl -sS --max-time 2 -o /dev/null "$1" 2>/dev/null; then echo ok; else echo fail; fi >> "$2"
    sleep 0.1
  done
}

hello_pods() { k -n "$ns" get pods -l app=hello -o jsonpath='{range .items[*]}{.metadata.name} {.status.containerStatuses[0].containerID} restarts={.status.containerStatuses[0].restartCount} ready={.status.containerStatuses[0].ready}{"\n"}{end}'; }

# Runs a fault under traffic and prints the requests that failed meanwhile.
under_traffic() { # TITLE COMMAND...
  local title=$1 url out stop tpid
  shift
  url="http://$(k -n "$ns" get service hello -o jsonpath='{.status.loadBalancer.ingress[0].ip}')/"
  out=$(mktemp); stop=$(mktemp -u)
  traffic "$url" "$out" "$stop" &
  tpid=$!
  say "$title"
  echo "before:"; hello_pods
  "$@"
  echo "after:"; hello_pods
  touch "$stop"; wait "$tpid"
  echo "requests to $url meanwhile: $(grep -c '^ok' "$out") ok, $(grep -c '^fail' "$out") failed"
  rm -f "$out" "$stop"
}

wait_hello_ready() { k -n "$ns" rollout status deploy/hello --timeout=120s >/dev/null; sleep 3; }

kill_container() {
  local pod id pid
  pod=$(k -n "$ns" get pods -l app=hello -o jsonpath='{.items[0].metadata.name}')
  id=$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].containerID}'); id=${id#containerd://}
  pid=$(ctr_ tasks ls | awk -v id="$id" '$1 == id {print $2}')
  echo "kill -9 $pid (hello in $pod, container ${id:0:12})"
  kill -KILL "$pid"
  local i
  for i in $(seq 1 60); do
    [[ $(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount}') -ge 1 && \
       $(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].ready}') == true ]] && break
    sleep 1
  done
  echo "$pod lastState: $(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].lastState.terminated}')"
  k -n "$ns" get events --field-selector involvedObject.name="$pod" --sort-by=.lastTimestamp | tail -n 4
}

evict_pod() {
  local pod
  pod=$(k -n "$ns" get pods -l app=hello -o jsonpath='{.items[0].metadata.name}')
  echo "POST pods/$pod/eviction"
  echo "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"$pod\",\"namespace\":\"$ns\"}}" \
    | k create --raw "/api/v1/namespaces/$ns/pods/$pod/eviction" -f -
  echo
  k -n "$ns" wait pod "$pod" --for=delete --timeout=60s >/dev/null || true
  wait_hello_ready
}

restart_daemon() { # containerd|kubelet
  local start=$SECONDS i
  bash scripts/real-node.sh "restart-$1"
  for i in $(seq 1 60); do
    [[ $(k get node tlsgate-real-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]] && break
    sleep 1
  done
  sleep 5 # a few probe periods with the restarted daemon
  echo "Node Ready $((SECONDS - start)) s after the restart began"
}

faults() {
  ensure_ns
  k -n "$ns" get deploy hello >/dev/null 2>&1 || service >/dev/null
  wait_hello_ready
  under_traffic "a container killed (SIGKILL to its process on the host)" kill_container
  under_traffic "a pod evicted (Eviction API); the Deployment replaces it" evict_pod
  under_traffic "the kubelet restarted; containers keep running" restart_daemon kubelet
  under_traffic "containerd restarted; containers keep running under their shims" restart_daemon containerd
}

clean() {
  k delete namespace "$ns" --ignore-not-found --wait=false
}

case "${1:-}" in
  hello) hello ;;
  service) service ;;
  faults) faults ;;
  proxy) proxy ;;
  clean) clean ;;
  *) echo "usage: scripts/real-node-demo.sh hello|service|faults|proxy|clean" >&2; exit 2 ;;
esac
