#!/usr/bin/env bash
# errand as another project uses it (ctest: consumer). Installs this build into
# a temporary prefix, then against that prefix only:
#   1. builds examples/service (CMake, find_package(errand)), runs it, POSTs a
#      signup, runs the installed `errand worker` on the service's job library
#      and waits until the job has run;
#   2. builds a one-file program with `pkg-config --cflags --libs errand`;
#   3. generates a project (`errand new project`, `errand new job`), builds it
#      and runs its tests.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR CMAKE
set -euo pipefail
build=$1 src=$2 cmake=${3:-cmake}
tmp=$(mktemp -d /tmp/errand-consumer.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# Wait up to $1 seconds for the command in "$@" to succeed.
wait_for() {
  local limit=$1; shift
  for _ in $(seq 1 $((limit * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}

step "install into $tmp/prefix"
"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
prefix=$tmp/prefix
errand=$prefix/bin/errand
"$errand" --version | grep -q '^errand ' || fail "installed errand --version"
test -f "$prefix"/lib*/cmake/errand/errandConfig.cmake || fail "no errandConfig.cmake"

step "build examples/service against the prefix"
"$cmake" -S "$src/examples/service" -B "$tmp/service" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/service-configure.log" || { cat "$tmp/service-configure.log"; fail "configure service"; }
"$cmake" --build "$tmp/service" -j 2 >"$tmp/service-build.log" || { cat "$tmp/service-build.log"; fail "build service"; }

step "run the service, send a signup"
store="sqlite://$tmp/jobs.db"
"$errand" stats --store "$store" >/dev/null  # creates the database before two processes open it
"$tmp/service/service" "$store" 0 >"$tmp/service.out" 2>&1 &
pids+=($!)
wait_for 30 grep -q '^listening on ' "$tmp/service.out" || { cat "$tmp/service.out"; fail "service did not start"; }
port=$(sed -n 's/^listening on //p' "$tmp/service.out")
reply=$(curl -sS -X POST "http://127.0.0.1:$port/signup?user=42&email=ada@example.com")
echo "$reply" | grep -q '"jid"' || fail "signup reply: $reply"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/signup?user=x")
[ "$code" = 400 ] || fail "bad signup answered $code"

step "a worker runs the job"
mkdir -p "$tmp/out"
SERVICE_OUT=$tmp/out "$errand" worker -r "$tmp/service/libservice_jobs.so" --store "$store" \
  -c 2 --poll-interval 0.5 >"$tmp/worker.log" 2>&1 &
worker=$!
pids+=($worker)
wait_for 60 grep -q '^welcomed 42 ada@example.com ' "$tmp/out/welcomed.txt" 2>/dev/null \
  || { cat "$tmp/worker.log"; fail "the worker did not run WelcomeSignup"; }
kill -TERM "$worker"
wait "$worker" || fail "worker exit status $?"

step "one file with pkg-config"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name errand.pc | head -1)")
flags=$(pkg-config --cflags --libs errand) || fail "pkg-config errand"
g++ -o "$tmp/one_file" "$src/tests/consumer/one_file.cc" $flags
LD_LIBRARY_PATH=$(pkg-config --variable=libdir errand) "$tmp/one_file" | grep -q 'enqueued 24-char jid' \
  || fail "one-file program"

step "generated project builds and its tests pass"
"$errand" new project "$tmp/app" >/dev/null
(cd "$tmp/app" && "$errand" new job SendWelcomeEmail >/dev/null)
(cd "$tmp/app" && "$errand" new job SendWelcomeEmail >/dev/null 2>&1) && fail "new job overwrote files"
"$cmake" -S "$tmp/app" -B "$tmp/app/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/app-configure.log" || { cat "$tmp/app-configure.log"; fail "configure app"; }
"$cmake" --build "$tmp/app/build" -j 2 >"$tmp/app-build.log" || { cat "$tmp/app-build.log"; fail "build app"; }
(cd "$tmp/app/build" && ctest --output-on-failure --timeout 120) || fail "the generated tests"
(cd "$tmp/app" && ./build/app sqlite://app.db | grep -q '^enqueued ExampleJob ') || fail "app main"
echo "consumer test OK"
