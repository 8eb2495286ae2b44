#!/usr/bin/env bash
# Stops the processes deploy/local/start-cluster.sh started, and only those: each pid file under deploy/local/run/
# names one. Silos first (SIGTERM: they leave the cluster gracefully), then Redis; whatever is still running after
# STOP_SECONDS (default 30) gets SIGKILL. A pid that now belongs to another program is left alone.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN=$HERE/run
STOP_SECONDS=${STOP_SECONDS:-30}

say() { echo "stop-cluster: $*" >&2; }
# Alive: the pid exists and is not a zombie (a killed process whose parent has not reaped it yet).
alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# The pid is ours only while its command line is still the program we started (pids are reused).
ours() {
  local pid=$1 program=$2
  alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$program"
}

# Stops every process named by the pid files $@ (program $PROGRAM): TERM all, wait, KILL the rest.
stop_all() {
  local program=$1; shift
  local pids=() names=() pidfile pid
  for pidfile in "$@"; do
    [[ -e $pidfile ]] || continue
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid" "$program"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$(basename "$pidfile" .pid)")
    else
      say "$(basename "$pidfile" .pid) (pid $pid) was not running"
    fi
    rm -f "$pidfile"
  done
  (( ${#pids[@]} > 0 )) || return 0
  local deadline=$((SECONDS + STOP_SECONDS)) i
  for i in "${!pids[@]}"; do
    while alive "${pids[i]}" && (( SECONDS < deadline )); do sleep 0.2; done
    if alive "${pids[i]}"; then
      say "${names[i]} (pid ${pids[i]}) still running after ${STOP_SECONDS}s: SIGKILL"
      kill -KILL "${pids[i]}" 2>/dev/null || true
    else
      say "${names[i]} (pid ${pids[i]}) stopped"
    fi
  done
}

[[ -d $RUN ]] || { say "nothing to stop ($RUN does not exist)"; exit 0; }
shopt -s nullglob
stop_all Distributed.Silo "$RUN"/silo-*.pid
stop_all redis-server "$RUN"/redis.pid
rm -f "$RUN/cluster"
