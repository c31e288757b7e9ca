#!/usr/bin/env bash
# make bench: the product as users run it, then the in-process figures, then
# how cost grows with the work; in one run on this machine. Writes
# docs/BENCHMARKS.md (and its charts, docs/bench/*.svg).
#
#  1. Worker processes timed from outside (build/errand_outside): the jobs are
#     pushed first, then `errand worker` / `sidekiq` / a Delayed Job worker is
#     started at its defaults (job logging on, to a file), and the clock runs
#     until the store shows every job acknowledged.
#  2. The in-process harness (build/errand_bench) on every store, beside the
#     peers' in-process baselines.
#  3. bench/scaling.sh: backlogs, queues, worker processes.
#
#   BENCH_JOBS=100000   jobs for enqueue and drain (default 100000)
#   BENCH_DJ_JOBS=1000  jobs for Delayed Job (it drains ~400 jobs/s here)
#   BENCH_REPEAT=3      rounds of the product table and the in-process table; medians shown
#   BENCH_INPROC_REPEAT rounds of the in-process table alone (default BENCH_REPEAT)
#   BENCH_SCALING=1     0 skips section 3 (SCALE_* in bench/scaling.sh set its sizes)
#   BENCH_SMOKE=1       tiny sizes, writes to build/BENCHMARKS.smoke.md (CI smoke test)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOBS=${BENCH_JOBS:-100000}
SINGLE=${BENCH_SINGLE:-20000}
DJ_JOBS=${BENCH_DJ_JOBS:-1000}
FORK_JOBS=${BENCH_FORK_JOBS:-2000}
PG_LOCK_JOBS=${BENCH_PG_LOCK_JOBS:-20000}
LAT_S=${BENCH_LATENCY_SECONDS:-5}
REPEAT=${BENCH_REPEAT:-3}
INPROC_REPEAT=${BENCH_INPROC_REPEAT:-$REPEAT}
SCALING=${BENCH_SCALING:-1}
OUT=docs/BENCHMARKS.md
SVG_DIR=docs/bench
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  JOBS=2000; SINGLE=500; DJ_JOBS=20; FORK_JOBS=50; PG_LOCK_JOBS=500; LAT_S=1; REPEAT=1; INPROC_REPEAT=1; OUT=$BUILD/BENCHMARKS.smoke.md
  SVG_DIR=$BUILD/bench-smoke
  export SCALE_BACKLOGS="500 2000" SCALE_QUEUES="1 10" SCALE_QUEUE_JOBS=1000 SCALE_PROCS="1 2" \
    SCALE_PROC_JOBS=2000 SCALE_LIMIT=120
fi
PORT=${BENCH_REDIS_PORT:-$((6400 + RANDOM % 500))}
WORK=$(mktemp -d)
PG_PID=""
trap 'redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; [ -z "$PG_PID" ] || kill "$PG_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --dir "$WORK" --logfile "$WORK/redis.log" >/dev/null
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# A throw-away PostgreSQL server (build/errand_pg_bench serve, which keeps it
# while its stdin is open) when PostgreSQL 15 is installed; durable (fsync,
# full_page_writes and synchronous_commit on), as issue #13 asks.
PG_URL=""; PG_INFO=""
if [ -x "$BUILD/errand_pg_bench" ] && [ -x /usr/lib/postgresql/15/bin/postgres ]; then
  mkfifo "$WORK/pg.in"
  "$BUILD/errand_pg_bench" serve --durable <"$WORK/pg.in" >"$WORK/pg.out" 2>"$WORK/pg.err" &
  PG_PID=$!
  exec 9>"$WORK/pg.in"
  for _ in $(seq 300); do grep -q '^conninfo ' "$WORK/pg.out" 2>/dev/null && break; sleep 0.1; done
  PG_URL=$(sed -n 's/^url //p' "$WORK/pg.out"); PG_INFO=$(sed -n 's/^conninfo //p' "$WORK/pg.out")
  PG_URI=$(sed -n 's/^uri //p' "$WORK/pg.out")  # the same database, for Delayed Job's ActiveRecord
  [ -n "$PG_URL" ] || echo "bench: no PostgreSQL: $(cat "$WORK/pg.err")" >&2
else
  echo "bench: PostgreSQL 15 or build/errand_pg_bench missing; the PostgreSQL rows are skipped" >&2
fi

# 1. The product: worker processes started as a user starts them, timed from outside.
OUTSIDE=$WORK/outside.jsonl
: > "$OUTSIDE"
mkdir -p "$WORK/logs"
LIB=$BUILD/liberrand_bench_jobs.so
outside() {  # label store-url outside-args...
  local label=$1 url=$2; shift 2
  echo "== outside: $label" >&2
  rm -f "$WORK"/logs/*.log
  "$BUILD/errand_outside" --label "$label" --store "$url" --log-dir "$WORK/logs" --time-limit 600 "$@" \
    | tee -a "$OUTSIDE" >&2 || echo "bench: $label failed: $(tail -3 "$WORK"/logs/"$label"-*.log 2>/dev/null)" >&2
}
R_URL="redis://127.0.0.1:$PORT/11"
for round in $(seq "$REPEAT"); do
  echo "== product round $round of $REPEAT" >&2
  outside errand-redis "$R_URL" --jobs "$JOBS" --push "ruby bench/sidekiq_push.rb $R_URL $JOBS" \
    --worker "$BUILD/errand worker --store $R_URL -r $LIB"
  REDIS_URL=$R_URL outside sidekiq "$R_URL" --jobs "$JOBS" --push "ruby bench/sidekiq_push.rb $R_URL $JOBS" \
    --worker "sidekiq -r ./bench/sidekiq_jobs.rb"
  # Process isolation: the same worker with each job in a pre-forked child,
  # and with a fresh child per job (fewer jobs: a fork each).
  outside errand-redis-process "$R_URL" --jobs "$JOBS" --push "ruby bench/sidekiq_push.rb $R_URL $JOBS" \
    --worker "$BUILD/errand worker --store $R_URL -r $LIB --isolation process"
  outside errand-redis-fork "$R_URL" --jobs "$FORK_JOBS" \
    --push "ruby bench/sidekiq_push.rb $R_URL $FORK_JOBS" \
    --worker "$BUILD/errand worker --store $R_URL -r $LIB --isolation fork"
  if [ -n "$PG_URL" ]; then
    outside errand-postgres "$PG_URL" --jobs "$JOBS" --push errand \
      --worker "$BUILD/errand worker --store $PG_URL -r $LIB"
    outside delayed-job-postgres "$PG_URL" --table delayed_jobs --jobs "$DJ_JOBS" \
      --push "ruby bench/dj_push.rb $PG_URI $DJ_JOBS" --worker "ruby bench/dj_worker.rb $PG_URI"
  fi
  rm -f "$WORK"/product.db*
  outside errand-sqlite "sqlite://$WORK/product.db" --jobs "$JOBS" --push errand \
    --worker "$BUILD/errand worker --store sqlite://$WORK/product.db -r $LIB"
  rm -f "$WORK"/dj.sqlite3
  outside delayed-job "sqlite://$WORK/dj.sqlite3" --table delayed_jobs --jobs "$DJ_JOBS" \
    --push "ruby bench/dj_push.rb $WORK/dj.sqlite3 $DJ_JOBS" --worker "ruby bench/dj_worker.rb $WORK/dj.sqlite3"
done
redis-cli -p "$PORT" -n 11 flushdb >/dev/null
outside errand-idle "$R_URL" --idle-seconds 2 --worker "$BUILD/errand worker --store $R_URL -r $LIB"
rm -f "$WORK"/idle.db*
outside errand-idle-sqlite "sqlite://$WORK/idle.db" --idle-seconds 2 \
  --worker "$BUILD/errand worker --store sqlite://$WORK/idle.db -r $LIB"
if [ -n "$PG_URL" ]; then  # longer: its CPU share is read in 10 ms ticks
  outside errand-idle-postgres "$PG_URL" --idle-seconds 5 --worker "$BUILD/errand worker --store $PG_URL -r $LIB"
fi

# 2. In-process.
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
run_errand() {  # label url [errand_bench flags...]
  echo "== errand on $1" >&2
  local label=$1 url=$2; shift 2
  "$BUILD/errand_bench" --store "$url" --label "$label" --jobs "$JOBS" --single "$SINGLE" \
    --latency-seconds "$LAT_S" "$@" 2>"$WORK/$label.log" | tee -a "$RESULTS" >&2
}
# The peers' baselines (../shared/bench); a peer that cannot run leaves its
# column "n/a" and says why on stderr, rather than failing the whole run.
SHARED=${BENCH_SHARED:-../shared/bench}
peer() {  # timeout script args... → the script's last line of output
  local limit=$1 script=$2; shift 2
  if [ ! -f "$script" ]; then echo "bench: $script not found; that peer is skipped" >&2; return 0; fi
  timeout "$limit" ruby "$script" "$@" 2>"$WORK/peer.err" | tail -1 || {
    echo "bench: $script failed: $(tail -3 "$WORK/peer.err")" >&2; true; }
}
# Peers and errand take turns, REPEAT rounds, so that a slow moment of the
# machine does not fall on one side only; the table shows each figure's median.
SK_JOBS=$(( (JOBS + 9999) / 10000 * 10000 ))  # sidekiq_load.rb pushes in slices of 10,000
SK_BULK_ALL=""; SK_DRAIN_ALL=""; SK_SINGLE_ALL=""; DJ_ALL=""
for round in $(seq "$INPROC_REPEAT"); do
  echo "== round $round of $INPROC_REPEAT" >&2
  rm -f "$WORK"/bench.db*
  run_errand memory "memory://bench"
  run_errand memory-nostatus "memory://bench" --no-status
  run_errand sqlite "sqlite://$WORK/bench.db"
  run_errand redis "redis://127.0.0.1:$PORT/12"
  if [ -n "$PG_URL" ]; then run_errand postgres "$PG_URL"; fi
  echo "== sidekiq" >&2
  line=$(peer 600 "$SHARED/sidekiq_load.rb" "redis://127.0.0.1:$PORT/13" "$SK_JOBS" 10)
  echo "$line" >&2; SK_BULK_ALL+="$line"$'\n'
  line=$(peer 600 bench/sidekiq_drain.rb "redis://127.0.0.1:$PORT/13" "$SK_JOBS" 10)
  echo "$line" >&2; SK_DRAIN_ALL+="$line"$'\n'
  line=$(peer 600 bench/sidekiq_enqueue.rb "redis://127.0.0.1:$PORT/13" "$SINGLE")
  echo "$line" >&2; SK_SINGLE_ALL+="$line"$'\n'
  echo "== delayed_job" >&2
  rm -f "$WORK/dj.sqlite3"
  line=$(peer 900 "$SHARED/delayed_job_load.rb" "$WORK/dj.sqlite3" "$DJ_JOBS")
  echo "$line" >&2; DJ_ALL+="$line"$'\n'
done

# PostgreSQL's fetch: FOR UPDATE SKIP LOCKED (what the store does) against
# Que's advisory locks, 8 connections claiming one job at a time.
PG_LOCK=""
if [ -n "$PG_INFO" ]; then
  echo "== postgres fetch locking" >&2
  PG_LOCK=$("$BUILD/errand_pg_bench" locking --conninfo "$PG_INFO" --jobs "$PG_LOCK_JOBS" --workers 8) ||
    echo "bench: errand_pg_bench locking failed" >&2
  echo "$PG_LOCK" >&2
fi

# 3. How cost grows with the work.
if [ "$SCALING" = 1 ]; then
  PORT=$PORT WORK=$WORK BUILD=$BUILD bench/scaling.sh
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
val() {  # store figure → median value
  { grep "\"store\":\"$1\"" "$RESULTS" | grep "\"figure\":\"$2\"" | sed -E 's/.*"value":([0-9.eE+-]+).*/\1/' || true; } | median
}
peer_median() {  # lines sed-expression → median of the extracted number
  { printf '%s' "$1" | grep -v '^$' | sed -E "$2" | grep -E '^[0-9.]+$' || true; } | median
}
fmt() { [ -n "$1" ] && printf "%.${2:-0}f" "$1" || printf "n/a"; }
sk_load_proc=$(peer_median "$SK_BULK_ALL" 's/.*process [0-9.]+s \(([0-9]+) jobs\/s\).*/\1/')
sk_proc=$(peer_median "$SK_DRAIN_ALL" 's/.*\(([0-9]+) jobs\/s\).*/\1/')
sk_bulk=$(peer_median "$SK_BULK_ALL" 's/.*enqueue [0-9]+ jobs [0-9.]+s \(([0-9]+)\/s\).*/\1/')
sk_single=$(peer_median "$SK_SINGLE_ALL" 's/.*\(([0-9]+)\/s\).*/\1/')
dj_proc=$(peer_median "$DJ_ALL" 's/.* \(([0-9]+) jobs\/s\) one worker.*/\1/')
dj_enq=$(peer_median "$DJ_ALL" 's/.*enqueue [0-9]+ jobs [0-9.]+s \(([0-9]+)\/s.*/\1/')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.1f×", a / b; else printf "n/a" }'; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "# errand benchmarks"
  echo
  echo "Measured by \`make bench\` (bench/run.sh), started $STARTED on this machine:"
  echo "$(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), redis-server $(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/'),"
  echo "$(ruby -e 'print "ruby #{RUBY_VERSION}"'). Load average (1, 5, 15 min) before the run: $LOAD_BEFORE; after: $LOAD_AFTER"
  echo "(on this machine other engineers' compilers may share the two cores: see the notes below)."
  echo "Every peer in these tables ran in the same run, on the same redis-server and disk, in turns with errand."
  echo
  echo "## The product: worker processes timed from outside"
  echo
  echo "\`build/errand_outside\` (bench/outside/) pushes the jobs, then starts the worker process as a user"
  echo "starts it, at its defaults, with its output (the per-job log lines) going to a file, and times it from"
  echo "the start of the process until the store shows every job acknowledged: on Redis \`queue:default\` and"
  echo "every errand in-progress list empty (Sidekiq 6.4's basic fetch has none: its last ≤ 10 jobs in flight"
  echo "are not waited for), on SQLite the jobs table (\`delayed_jobs\`) empty. CPU is user+sys of the worker"
  echo "process from /proc at that moment. $REPEAT rounds, each figure the median; $JOBS no-op jobs"
  echo "($DJ_JOBS for Delayed Job), pushed on Redis by Ruby's \`Sidekiq::Client.push_bulk\` (bench/sidekiq_push.rb)"
  echo "for errand and Sidekiq alike, on SQLite by errand's \`push_bulk\` and by Delayed Job's \`enqueue\` in one transaction."
  echo
  echo "Commands: \`errand worker --store URL -r build/liberrand_bench_jobs.so\` (concurrency 10, INFO job logging),"
  echo "\`REDIS_URL=URL sidekiq -r ./bench/sidekiq_jobs.rb\` (concurrency 10, INFO logging),"
  echo "\`ruby bench/dj_worker.rb DB\` (\`Delayed::Worker#start\`, as \`rake jobs:work\`, INFO logging)."
  echo
  ruby bench/report.rb "$OUTSIDE" "$RESULTS"
  echo
  echo "## In process (second table)"
  echo
  echo "\`build/errand_bench\`: client and worker in one process, job logging off, timed by the jobs; the"
  echo "peers' in-process baselines beside it; $INPROC_REPEAT round(s), medians. Sizes: $JOBS jobs for bulk enqueue and drain, $SINGLE for single enqueue,"
  echo "$DJ_JOBS for Delayed Job; latency at 1,000 jobs/s for $LAT_S s; no-op jobs; concurrency 10; reliable fetch on."
  echo
  echo "| figure | errand memory | errand sqlite | errand redis | Sidekiq 6.4 (redis) | Delayed Job (sqlite) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  echo "| enqueue, perform_async loop (jobs/s) | $(fmt "$(val memory enqueue_single)") | $(fmt "$(val sqlite enqueue_single)") | $(fmt "$(val redis enqueue_single)") | $(fmt "$sk_single") | $(fmt "$dj_enq") (one transaction) |"
  echo "| enqueue, push_bulk × 1,000 (jobs/s) | $(fmt "$(val memory enqueue_bulk)") | $(fmt "$(val sqlite enqueue_bulk)") | $(fmt "$(val redis enqueue_bulk)") | $(fmt "$sk_bulk") | — |"
  echo "| enqueue, aggregate stage (calls/s) | $(fmt "$(val memory enqueue_aggregate)") | $(fmt "$(val sqlite enqueue_aggregate)") | $(fmt "$(val redis enqueue_aggregate)") | — | — |"
  echo "| aggregate perform_async call p50 / p99 (µs) | $(fmt "$(val memory aggregate_call_p50)" 2) / $(fmt "$(val memory aggregate_call_p99)" 2) | $(fmt "$(val sqlite aggregate_call_p50)" 2) / $(fmt "$(val sqlite aggregate_call_p99)" 2) | $(fmt "$(val redis aggregate_call_p50)" 2) / $(fmt "$(val redis aggregate_call_p99)" 2) | — | — |"
  echo "| processing, drain (jobs/s) | $(fmt "$(val memory process)") | $(fmt "$(val sqlite process)") | $(fmt "$(val redis process)") | $(fmt "$sk_proc") ¹ | $(fmt "$dj_proc") |"
  echo "| latency enqueue → perform p50 / p99 / max (ms) | $(fmt "$(val memory latency_p50)" 2) / $(fmt "$(val memory latency_p99)" 2) / $(fmt "$(val memory latency_max)" 2) | $(fmt "$(val sqlite latency_p50)" 2) / $(fmt "$(val sqlite latency_p99)" 2) / $(fmt "$(val sqlite latency_max)" 2) | $(fmt "$(val redis latency_p50)" 2) / $(fmt "$(val redis latency_p99)" 2) / $(fmt "$(val redis latency_max)" 2) | — | — |"
  echo "| result round trip: perform_async → wait() returns, p50 / p99 (ms) | $(fmt "$(val memory wait_p50)" 2) / $(fmt "$(val memory wait_p99)" 2) | $(fmt "$(val sqlite wait_p50)" 2) / $(fmt "$(val sqlite wait_p99)" 2) | $(fmt "$(val redis wait_p50)" 2) / $(fmt "$(val redis wait_p99)" 2) | — | — |"
  echo "| worker RSS idle / peak (MB) | $(fmt "$(val memory rss_idle)" 1) / $(fmt "$(val memory rss_peak)" 1) | $(fmt "$(val sqlite rss_idle)" 1) / $(fmt "$(val sqlite rss_peak)" 1) | $(fmt "$(val redis rss_idle)" 1) / $(fmt "$(val redis rss_peak)" 1) | — | — |"
  echo "| CPU per job, user+sys (µs) | $(fmt "$(val memory cpu_per_job)" 2) | $(fmt "$(val sqlite cpu_per_job)" 2) | $(fmt "$(val redis cpu_per_job)" 2) | — | — |"
  echo
  echo "The memory store again with \`--no-status\` (\`ServerOptions::record_status\` off: no status"
  echo "record per job): drain $(fmt "$(val memory-nostatus process)") jobs/s, $(fmt "$(val memory-nostatus cpu_per_job)" 2) µs CPU per job;"
  echo "the difference from the memory column is what a job's status record costs in that store."
  echo
  echo "¹ Sidekiq's drain timed by its jobs (\`bench/sidekiq_drain.rb\`: each job bumps an in-process"
  echo "counter). The shared baseline \`sidekiq_load.rb\` reads \`stat:processed\`, which Sidekiq writes"
  echo "with its heartbeat every 5 s, so its times come in 5-second steps (5.05 s, 10.05 s, ...); its median"
  echo "here: $(fmt "$sk_load_proc") jobs/s (as printed below)."
  echo
  echo "Ratios in this run: redis processing $(ratio "$(val redis process)" "$sk_proc") Sidekiq;"
  echo "redis bulk enqueue $(ratio "$(val redis enqueue_bulk)" "$sk_bulk") Sidekiq;"
  echo "sqlite processing $(ratio "$(val sqlite process)" "$dj_proc") Delayed Job."
  echo
  echo "## PostgreSQL (issue #13)"
  echo
  if [ -n "$PG_URL" ]; then
    echo "A throw-away PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}') on loopback, durable: fsync, full_page_writes"
    echo "and synchronous_commit on. The first table is timed from outside as the product table above: $JOBS jobs"
    echo "pushed by errand's \`push_bulk\` for \`errand worker --store postgres://… -r build/liberrand_bench_jobs.so\`, $DJ_JOBS"
    echo "by Delayed Job's \`enqueue\` in one transaction for \`ruby bench/dj_worker.rb postgresql://…\` (Delayed Job 4.1"
    echo "with its ActiveRecord backend on ruby-pg, INFO logging), each until its table holds no waiting row."
    echo "The idle CPU is the worker's user+sys over 5 s with nothing to do, after 1 s of start-up:"
    echo "idle workers wait on LISTEN/NOTIFY, not a short poll. The second table is \`build/errand_bench\` in the rounds above."
    echo
    ruby bench/report_pg.rb "$OUTSIDE" "$RESULTS"
    echo
    echo "Fetch locking: $PG_LOCK_JOBS jobs claimed and acknowledged one at a time by 8 connections"
    echo "(\`build/errand_pg_bench locking\`, bench/pg/pg_bench.cc), on the same server:"
    echo
    echo "| locking | jobs/s | claims that lost a race |"
    echo "| --- | ---: | ---: |"
    printf '%s\n' "$PG_LOCK" | grep -v '^$' | ruby -rjson -ne 'r = JSON.parse($_); puts "| #{r["label"] == "pg-skip-locked" ? "FOR UPDATE SKIP LOCKED (errand)" : "advisory locks (Que)"} | #{r["rate"].round} | #{r["missed"]} |"' || true
    echo
    echo "errand uses SKIP LOCKED: the claim is a row update, so a job claimed by a worker that dies stays"
    echo "claimed in the table for the rescuer, and a connection is needed only while a statement runs"
    echo "(pool-friendly). Advisory locks write nothing to claim, but hold a session for as long as the job runs."
  else
    echo "Not measured in this run: PostgreSQL 15 was not available."
  fi
  echo
  echo "Peers, as printed (every round):"
  echo
  echo '```'
  printf '%s' "$SK_BULK_ALL"
  printf '%s' "$SK_DRAIN_ALL"
  printf '%s' "$SK_SINGLE_ALL"
  printf '%s' "$DJ_ALL"
  echo '```'
  echo
  echo "Commands: \`make bench\`, which runs \`bench/run.sh\`: \`build/errand_bench --store URL --jobs $JOBS --single $SINGLE --latency-seconds $LAT_S\`"
  echo "for each store, \`ruby $SHARED/sidekiq_load.rb redis://127.0.0.1:$PORT/13 $SK_JOBS 10\`,"
  echo "\`ruby bench/sidekiq_drain.rb redis://127.0.0.1:$PORT/13 $SK_JOBS 10\`,"
  echo "\`ruby bench/sidekiq_enqueue.rb redis://127.0.0.1:$PORT/13 $SINGLE\` and \`ruby $SHARED/delayed_job_load.rb DB $DJ_JOBS\`."
  echo "RSS and CPU are the errand bench process (client and worker in one process; for the memory store the queued jobs live in it too); redis-server's own CPU is not counted."
  if [ "$SCALING" = 1 ] && [ -s "$WORK/scaling.jsonl" ]; then
    echo
    ruby bench/scaling.rb "$WORK/scaling.jsonl" "$SVG_DIR" bench
  fi
  if [ -f bench/analysis.md ]; then echo; cat bench/analysis.md; fi
} > "$OUT"
cat "$OUT"
