#!/usr/bin/env bash
# How cost grows with the work: `errand worker` processes at their defaults,
# timed from outside (build/errand_outside), on Redis and SQLite, with
#   - backlogs of SCALE_BACKLOGS jobs waiting (push rate, drain rate, store bytes per job),
#   - SCALE_QUEUES queues, strict and weighted (the jobs spread evenly over them),
#   - SCALE_PROCS worker processes on one store.
# Called by bench/run.sh with PORT (a running redis-server), WORK and BUILD set;
# appends one JSON object per run to $WORK/scaling.jsonl. Every run is bounded
# by its job count and by SCALE_LIMIT seconds.
set -euo pipefail
: "${PORT:?}" "${WORK:?}" "${BUILD:?}"
BACKLOGS=${SCALE_BACKLOGS:-10000 100000 1000000}
SQLITE_BACKLOGS=${SCALE_SQLITE_BACKLOGS:-$BACKLOGS}
QUEUES=${SCALE_QUEUES:-1 100 1000}
QUEUE_JOBS=${SCALE_QUEUE_JOBS:-100000}
PROCS=${SCALE_PROCS:-1 2 4 8}
PROC_JOBS=${SCALE_PROC_JOBS:-200000}
LIMIT=${SCALE_LIMIT:-600}
OUT=$WORK/scaling.jsonl
LOGS=$WORK/scaling-logs
mkdir -p "$LOGS"
REDIS="redis://127.0.0.1:$PORT/14"
LIB=$BUILD/liberrand_bench_jobs.so

one() {  # store-kind label outside-args...
  local kind=$1 label=$2; shift 2
  local url
  if [ "$kind" = redis ]; then
    url=$REDIS
    redis-cli -p "$PORT" -n 14 flushdb >/dev/null
  else
    rm -f "$WORK"/scale.db*
    url="sqlite://$WORK/scale.db"
  fi
  rm -f "$LOGS"/*.log
  echo "== scaling: $kind $label $*" >&2
  "$BUILD/errand_outside" --label "$label" --store "$url" --log-dir "$LOGS" --time-limit "$LIMIT" \
    --worker "$BUILD/errand worker --store $url -r $LIB" "$@" \
    | sed "s/^{/{\"kind\":\"$kind\",\"series\":\"$label\",/" | tee -a "$OUT" >&2 \
    || echo "bench: scaling run $kind $label $* failed" >&2
}

for kind in redis sqlite; do
  sizes=$BACKLOGS
  [ "$kind" = sqlite ] && sizes=$SQLITE_BACKLOGS
  for n in $sizes; do one "$kind" backlog --jobs "$n"; done
  for q in $QUEUES; do
    one "$kind" strict --jobs "$QUEUE_JOBS" --queues "$q" --queue-flags strict
    one "$kind" weighted --jobs "$QUEUE_JOBS" --queues "$q" --queue-flags weighted
  done
  for p in $PROCS; do one "$kind" processes --jobs "$PROC_JOBS" --processes "$p"; done
done
