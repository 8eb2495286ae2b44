#!/usr/bin/env bash
# Starts a local Distributed cluster of N silos on loopback ports, for trying a cluster on one machine.
#
#   deploy/local/start-cluster.sh [N]        N silos (default 3); prints the --cluster value a client uses
#   deploy/local/stop-cluster.sh             stops exactly what this started (pid files under deploy/local/run/)
#
# With redis-server on the PATH it also starts Redis on a loopback port and the silos use Redis membership and Redis
# grain storage (checkpoints and uploaded images survive a silo's death); without it, localhost clustering (silo 0
# is the primary; grain state in memory). Everything lives under deploy/local/run/: bin/ (the Release Silo, built
# once), silo-I.log, silo-I.pid, redis.log, redis.pid, and cluster (the --cluster value).
#
# Settings (environment): CLUSTERING=auto|redis|localhost, SILO_PORT=11111 and GATEWAY_PORT=30000 (silo I uses
# base + I), REDIS_PORT=6390, DATA_ROOT=<repo>/samples (--data-root of every silo), WAIT_SECONDS=90 (per silo),
# SKIP_BUILD=1 (reuse run/bin as it is), SILO_ARGS (extra flags for every silo, e.g. "--compute-slots 1").
#
# Progress goes to stderr; stdout is the one line a script wants: the --cluster value.
set -euo pipefail

N=${1:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=$HERE/run
BIN=$RUN/bin
CLUSTERING=${CLUSTERING:-auto}
SILO_PORT=${SILO_PORT:-11111}
GATEWAY_PORT=${GATEWAY_PORT:-30000}
REDIS_PORT=${REDIS_PORT:-6390}
DATA_ROOT=${DATA_ROOT:-$ROOT/samples}
WAIT_SECONDS=${WAIT_SECONDS:-90}
read -r -a EXTRA <<< "${SILO_ARGS:-}"

say() { echo "start-cluster: $*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $N =~ ^[0-9]+$ ]] && (( N >= 1 && N <= 32 )) || die "N = '$N'; allowed 1..32 silos."
case $CLUSTERING in
  auto) if command -v redis-server >/dev/null 2>&1; then CLUSTERING=redis; else CLUSTERING=localhost; fi ;;
  redis) command -v redis-server >/dev/null 2>&1 || die "CLUSTERING=redis but redis-server is not installed." ;;
  localhost) ;;
  *) die "CLUSTERING = '$CLUSTERING'; allowed auto, redis, localhost." ;;
esac

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp: no extra tools needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }

mkdir -p "$RUN"
for pidfile in "$RUN"/*.pid; do
  [[ -e $pidfile ]] || continue
  pid=$(<"$pidfile")
  if alive "$pid"; then die "$(basename "$pidfile" .pid) (pid $pid) is still running; run deploy/local/stop-cluster.sh first."; fi
  rm -f "$pidfile"
done

ports=()
for ((i = 0; i < N; i++)); do ports+=($((SILO_PORT + i)) $((GATEWAY_PORT + i))); done
[[ $CLUSTERING == redis ]] && ports+=("$REDIS_PORT")
for port in "${ports[@]}"; do
  if listening "$port"; then die "port $port on 127.0.0.1 is already in use; choose other ports (SILO_PORT, GATEWAY_PORT, REDIS_PORT)."; fi
done

if [[ ${SKIP_BUILD:-0} != 1 || ! -x $BIN/Distributed.Silo ]]; then
  say "building the Silo (Release) into $BIN"
  dotnet publish "$ROOT/Silo/Silo.csproj" -c Release -o "$BIN" --nologo -v quiet >"$RUN/build.log" 2>&1 \
    || { tail -n 30 "$RUN/build.log" >&2; die "the build failed (log: $RUN/build.log)."; }
fi

# From here on a failure stops whatever was started.
started=0
cleanup() { if (( started == 0 )); then "$HERE/stop-cluster.sh" >&2 || true; fi; }
trap cleanup EXIT

# Waits until $2 (pid) listens on port $3 or dies or WAIT_SECONDS pass; $1 names it, $4 is its log.
await() {
  local name=$1 pid=$2 port=$3 log=$4 deadline=$((SECONDS + WAIT_SECONDS))
  until listening "$port"; do
    if ! alive "$pid"; then tail -n 20 "$log" >&2; die "$name exited before accepting connections on port $port (log: $log)."; fi
    if (( SECONDS >= deadline )); then tail -n 20 "$log" >&2; die "$name did not accept connections on port $port within ${WAIT_SECONDS}s (log: $log)."; fi
    sleep 0.5
  done
}

# Each process gets its own session (setsid), so a Ctrl+C in this terminal later does not reach it; stop-cluster.sh does.
if [[ $CLUSTERING == redis ]]; then
  mkdir -p "$RUN/redis"
  # Ephemeral on purpose: membership and job state last as long as this Redis; stop-cluster.sh forgets them.
  setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$RUN/redis" --save "" --appendonly no \
    </dev/null >"$RUN/redis.log" 2>&1 &
  echo $! >"$RUN/redis.pid"
  await redis "$!" "$REDIS_PORT" "$RUN/redis.log"
  CLUSTER="redis://127.0.0.1:$REDIS_PORT"
  cluster_flags=(--cluster "$CLUSTER" --storage redis --advertise 127.0.0.1)
  say "redis on 127.0.0.1:$REDIS_PORT (pid $(<"$RUN/redis.pid"))"
else
  CLUSTER="localhost:$GATEWAY_PORT"
  cluster_flags=(--cluster localhost --primary-silo-port "$SILO_PORT")
fi

start_silo() {
  local i=$1
  setsid "$BIN/Distributed.Silo" "${cluster_flags[@]}" \
    --silo-port $((SILO_PORT + i)) --gateway-port $((GATEWAY_PORT + i)) \
    --data-root "$DATA_ROOT" --instance-id "silo-$i" "${EXTRA[@]}" \
    </dev/null >"$RUN/silo-$i.log" 2>&1 &
  echo $! >"$RUN/silo-$i.pid"
}

# Silo 0 first: with localhost clustering it is the primary the others join through.
start_silo 0
await "silo 0" "$(<"$RUN/silo-0.pid")" "$GATEWAY_PORT" "$RUN/silo-0.log"
say "silo 0 up: silo port $SILO_PORT, gateway $GATEWAY_PORT (pid $(<"$RUN/silo-0.pid"))"
for ((i = 1; i < N; i++)); do start_silo "$i"; done
for ((i = 1; i < N; i++)); do
  await "silo $i" "$(<"$RUN/silo-$i.pid")" $((GATEWAY_PORT + i)) "$RUN/silo-$i.log"
  say "silo $i up: silo port $((SILO_PORT + i)), gateway $((GATEWAY_PORT + i)) (pid $(<"$RUN/silo-$i.pid"))"
done

started=1
echo "$CLUSTER" >"$RUN/cluster"
say "$N silo(s) running, $CLUSTERING clustering; logs and pid files in $RUN"
say "submit with:  dotnet run -c Release --project Client -- train --engine distributed --cluster $CLUSTER --out runs/cluster"
echo "$CLUSTER"
