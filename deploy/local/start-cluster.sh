#!/usr/bin/env bash
# Starts a local Distributed cluster of N silos on loopback ports, for trying a cluster on one machine.
#
#   deploy/local/start-cluster.sh [N]        N silos (default 3); prints the --cluster value a client uses
#   deploy/local/start-cluster.sh --add [N]  N more silos (default 1) for the cluster already running
#   deploy/local/start-cluster.sh --redis    starts the cluster's Redis again after it died (same port, data, password)
#   deploy/local/stop-cluster.sh             stops exactly what this started (pid files under deploy/local/run/)
#
# With redis-server on the PATH it also starts Redis on a loopback port and the silos use Redis membership and Redis
# grain storage (checkpoints and uploaded images survive a silo's death); without it, localhost clustering (silo 0
# is the primary; grain state in memory). Every port binds 127.0.0.1 only. A fresh cluster gets a random secret in
# run/secret (mode 600): silos and clients prove it on every connection, and it is Redis' password; clients pass
# --secret-file deploy/local/run/secret. Redis appends every write to run/redis/ before acknowledging it, so a Redis
# that dies and comes back (--redis) has lost nothing; jobs pause while it is away. Everything lives under
# deploy/local/run/: bin/ (the Release Silo, built once), silo-I.log, silo-I.pid, redis.log, redis.pid, redis.conf,
# secret, and cluster (the --cluster value).
#
# Settings (environment): CLUSTERING=auto|redis|localhost, SILO_PORT=11111 and GATEWAY_PORT=30000 (silo I uses
# base + I), REDIS_PORT=6390, DATA_ROOT=<repo>/samples (--data-root of every silo), WAIT_SECONDS=90 (per silo),
# SKIP_BUILD=1 (reuse run/bin as it is), SILO_ARGS (extra flags for every silo, e.g. "--compute-slots 1").
#
# Progress goes to stderr; stdout is the one line a script wants: the --cluster value.
set -euo pipefail

MODE=new
case ${1:-} in
  --add) MODE=add; shift; N=${1:-1} ;;
  --redis) MODE=redis; shift; N=0 ;;
  *) N=${1:-3} ;;
esac
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

[[ $N =~ ^[0-9]+$ ]] && (( N <= 32 )) && { (( N >= 1 )) || [[ $MODE == redis ]]; } || die "N = '$N'; allowed 1..32 silos."

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp: no extra tools needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Alive: the pid exists and is not a zombie (a killed process whose parent has not reaped it yet).
alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# Waits until $2 (pid) listens on port $3 or dies or WAIT_SECONDS pass; $1 names it, $4 is its log.
await() {
  local name=$1 pid=$2 port=$3 log=$4 deadline=$((SECONDS + WAIT_SECONDS))
  until listening "$port"; do
    if ! alive "$pid"; then tail -n 20 "$log" >&2; die "$name exited before accepting connections on port $port (log: $log)."; fi
    if (( SECONDS >= deadline )); then tail -n 20 "$log" >&2; die "$name did not accept connections on port $port within ${WAIT_SECONDS}s (log: $log)."; fi
    sleep 0.5
  done
}

# Redis with the secret as password (in a mode-600 config file: a command line is readable by every user) and an
# append-only file fsync'd on every write, so a restart loses nothing a silo was told was stored.
start_redis() {
  mkdir -p "$RUN/redis"
  (umask 077; cat >"$RUN/redis.conf" <<CONF
port $REDIS_PORT
bind 127.0.0.1
dir $RUN/redis
save ""
appendonly yes
appendfsync always
requirepass $(<"$RUN/secret")
CONF
  )
  setsid redis-server "$RUN/redis.conf" </dev/null >>"$RUN/redis.log" 2>&1 &
  echo $! >"$RUN/redis.pid"
  await redis "$!" "$REDIS_PORT" "$RUN/redis.log"
  say "redis on 127.0.0.1:$REDIS_PORT (pid $(<"$RUN/redis.pid"))"
}

if [[ $MODE != new ]]; then
  # --add and --redis act on the cluster recorded in run/: its clustering, ports and secret.
  [[ -f $RUN/cluster && -f $RUN/secret && -f $RUN/settings ]] || die "no running cluster to extend ($RUN/cluster is missing); start one first."
  CLUSTER=$(<"$RUN/cluster")
  # The new silos must use the ports, data root and flags the cluster was started with.
  # shellcheck source=/dev/null
  source "$RUN/settings"
  read -r -a EXTRA <<< "${SILO_ARGS:-}"
  if [[ $MODE == redis ]]; then
    [[ $CLUSTER == redis://* ]] || die "the cluster in $RUN uses localhost clustering: it has no Redis."
    REDIS_PORT=${CLUSTER##*:}
    if [[ -e $RUN/redis.pid ]] && alive "$(<"$RUN/redis.pid")"; then die "redis (pid $(<"$RUN/redis.pid")) is still running."; fi
    start_redis
    exit 0
  fi
fi

case $CLUSTERING in
  auto) if command -v redis-server >/dev/null 2>&1; then CLUSTERING=redis; else CLUSTERING=localhost; fi ;;
  redis) command -v redis-server >/dev/null 2>&1 || die "CLUSTERING=redis but redis-server is not installed." ;;
  localhost) ;;
  *) die "CLUSTERING = '$CLUSTERING'; allowed auto, redis, localhost." ;;
esac

mkdir -p "$RUN"
if [[ $MODE == add ]]; then
  # Silo indices continue after the highest one this cluster ever had.
  FIRST=0
  for pidfile in "$RUN"/silo-*.pid "$RUN"/silo-*.log; do
    [[ -e $pidfile ]] || continue
    i=${pidfile##*/silo-}; i=${i%.*}
    (( i + 1 > FIRST )) && FIRST=$((i + 1))
  done
  if [[ $CLUSTER == redis://* ]]; then CLUSTERING=redis; else CLUSTERING=localhost; fi
else
  FIRST=0
fi
LAST=$((FIRST + N))

if [[ $MODE == new ]]; then
  for pidfile in "$RUN"/*.pid; do
    [[ -e $pidfile ]] || continue
    pid=$(<"$pidfile")
    if alive "$pid"; then die "$(basename "$pidfile" .pid) (pid $pid) is still running; run deploy/local/stop-cluster.sh first."; fi
    rm -f "$pidfile"
  done
  # A new cluster starts from nothing: no old jobs, membership or logs, and a new secret.
  rm -rf "$RUN/redis" "$RUN"/silo-*.log "$RUN/redis.log"
  (umask 077; if [[ -n ${SECRET_FILE:-} ]]; then cp "$SECRET_FILE" "$RUN/secret"; else od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$RUN/secret"; echo >>"$RUN/secret"; fi)
fi

ports=()
for ((i = FIRST; i < LAST; i++)); do ports+=($((SILO_PORT + i)) $((GATEWAY_PORT + i))); done
[[ $CLUSTERING == redis && $MODE == new ]] && ports+=("$REDIS_PORT")
for port in "${ports[@]}"; do
  if listening "$port"; then die "port $port on 127.0.0.1 is already in use; choose other ports (SILO_PORT, GATEWAY_PORT, REDIS_PORT)."; fi
done

if [[ $MODE == new ]]; then
  printf 'SILO_PORT=%q\nGATEWAY_PORT=%q\nREDIS_PORT=%q\nDATA_ROOT=%q\nSILO_ARGS=%q\n' \
    "$SILO_PORT" "$GATEWAY_PORT" "$REDIS_PORT" "$DATA_ROOT" "${SILO_ARGS:-}" >"$RUN/settings"
fi

# --add reuses the silo the cluster runs (a rebuild would mix versions).
if [[ $MODE == add && -x $BIN/Distributed.Silo ]]; then
  :
elif [[ ${SKIP_BUILD:-0} != 1 || ! -x $BIN/Distributed.Silo ]]; then
  say "building the Silo (Release) into $BIN"
  dotnet publish "$ROOT/Silo/Silo.csproj" -c Release -o "$BIN" --nologo -v quiet >"$RUN/build.log" 2>&1 \
    || { tail -n 30 "$RUN/build.log" >&2; die "the build failed (log: $RUN/build.log)."; }
fi

# From here on a failure of a new cluster stops whatever was started (an --add stops only the silos it added).
started=0
cleanup() {
  (( started == 0 )) || return 0
  if [[ $MODE == new ]]; then "$HERE/stop-cluster.sh" >&2 || true; return 0; fi
  for ((i = FIRST; i < LAST; i++)); do
    [[ -e $RUN/silo-$i.pid ]] && { kill -TERM "$(<"$RUN/silo-$i.pid")" 2>/dev/null || true; rm -f "$RUN/silo-$i.pid"; }
  done
}
trap cleanup EXIT

# Each process gets its own session (setsid), so a Ctrl+C in this terminal later does not reach it; stop-cluster.sh does.
if [[ $CLUSTERING == redis ]]; then
  if [[ $MODE == new ]]; then
    start_redis
    CLUSTER="redis://127.0.0.1:$REDIS_PORT"
  fi
  cluster_flags=(--cluster "$CLUSTER" --storage redis --advertise 127.0.0.1)
else
  [[ $MODE == new ]] && CLUSTER="localhost:$GATEWAY_PORT"
  cluster_flags=(--cluster localhost --primary-silo-port "$SILO_PORT")
fi
cluster_flags+=(--secret-file "$RUN/secret")

start_silo() {
  local i=$1
  setsid "$BIN/Distributed.Silo" "${cluster_flags[@]}" \
    --silo-port $((SILO_PORT + i)) --gateway-port $((GATEWAY_PORT + i)) \
    --data-root "$DATA_ROOT" --instance-id "silo-$i" "${EXTRA[@]}" \
    </dev/null >"$RUN/silo-$i.log" 2>&1 &
  echo $! >"$RUN/silo-$i.pid"
}

# Silo 0 first: with localhost clustering it is the primary the others join through.
REST=$FIRST
if [[ $MODE == new ]]; then
  start_silo 0
  await "silo 0" "$(<"$RUN/silo-0.pid")" "$GATEWAY_PORT" "$RUN/silo-0.log"
  say "silo 0 up: silo port $SILO_PORT, gateway $GATEWAY_PORT (pid $(<"$RUN/silo-0.pid"))"
  REST=1
fi
for ((i = REST; i < LAST; i++)); do start_silo "$i"; done
for ((i = REST; i < LAST; i++)); do
  await "silo $i" "$(<"$RUN/silo-$i.pid")" $((GATEWAY_PORT + i)) "$RUN/silo-$i.log"
  say "silo $i up: silo port $((SILO_PORT + i)), gateway $((GATEWAY_PORT + i)) (pid $(<"$RUN/silo-$i.pid"))"
done

started=1
echo "$CLUSTER" >"$RUN/cluster"
if [[ $MODE == add ]]; then
  say "$N silo(s) added (silo $FIRST..$((LAST - 1))); logs and pid files in $RUN"
else
  say "$N silo(s) running, $CLUSTERING clustering; logs and pid files in $RUN"
  say "submit with:  dotnet run -c Release --project Client -- train --engine distributed --cluster $CLUSTER --secret-file $RUN/secret --out runs/cluster"
fi
echo "$CLUSTER"
