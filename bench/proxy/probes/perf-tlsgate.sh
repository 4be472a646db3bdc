#!/usr/bin/env bash
# Usage: bench/proxy/probes/perf-tlsgate.sh N   (then start the benchmark in another shell)
# Attaches `perf stat` to each of the next N tlsgate process trees the benchmark starts (the
# standalone process and its cluster workers, every thread) for as long as each lives, and prints
# per accepted connection (accept4 calls minus failed ones): syscalls, context switches, CPU
# migrations, accept4 calls failing (EAGAIN: another worker took the connection), epoll_pwait
# returns and those that returned nothing. For docs/performance.md, "Two workers: where the extra
# CPU goes". Needs perf and the permission to trace (root here).
set -euo pipefail
runs=${1:?usage: perf-tlsgate.sh N (tlsgate processes to follow)}
events=(-e raw_syscalls:sys_enter -e context-switches -e cpu-migrations -e syscalls:sys_enter_accept4
  -e syscalls:sys_exit_accept4 --filter 'ret < 0' -e syscalls:sys_exit_epoll_pwait
  -e syscalls:sys_exit_epoll_pwait --filter 'ret == 0')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((n = 1; n <= runs; n++)); do
  # Only the benchmark's tlsgate (its work directory), not another tlsgate on the machine.
  until primary=$(pgrep -f 'bin/tlsgate\.js standalone -f [^ ]*/tlsgate-bench-[^ ]*/workers-' | head -1); do sleep 0.1; done
  sleep 1.5 # the workers are forked and listening
  pids=$primary$(pgrep -P "$primary" -f worker-main | sed 's/^/,/' | tr -d '\n' || true)
  perf stat -x, --per-thread -o "$out/$n.csv" "${events[@]}" -p "$pids" 2>/dev/null &
  perf_pid=$!
  while kill -0 "$primary" 2>/dev/null; do sleep 0.2; done
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" || true
  # One line per thread and event; sys_exit_accept4 is only counted filtered (failures), and
  # sys_exit_epoll_pwait twice, the second time filtered (nothing returned).
  awk -F, -v pids="$pids" '
    /^#/ || NF < 4 { next }
    {
      key = $1 SUBSEP $4; seen[key]++; name = $4
      if (name == "syscalls:sys_exit_accept4") name = "accept4 failed"
      else if (name == "syscalls:sys_exit_epoll_pwait") name = seen[key] == 1 ? "epoll_pwait returns" : "epoll_pwait returning nothing"
      sum[name] += $2; if (!(name in order)) { order[name] = ++count; names[count] = name }
    }
    END {
      connections = sum["syscalls:sys_enter_accept4"] - sum["accept4 failed"]
      printf "tlsgate pids %s: %d connections accepted; per connection:\n", pids, connections
      for (i = 1; i <= count; i++) printf "  %-45s %8.2f\n", names[i], sum[names[i]] / connections
    }' "$out/$n.csv"
done
