#!/usr/bin/env bash
# errand as another project uses it (ctest: consumer). Installs the build
# into a temporary prefix, then, against that prefix only:
#   1. builds examples/service with CMake (find_package(errand));
#   2. builds a one-file program with `pkg-config --cflags --libs errand`;
#   3. generates a project with `errand new project`, builds it, runs its test;
#   4. runs the service, POSTs a signup, and waits for an `errand worker -r`
#      from the prefix to run the job it enqueued (SQLite in the temp dir);
#   5. runs `errand web` from the prefix, which must find its dashboard
#      module in <prefix>/lib/errand/, and asks its JSON API for the stats.
#
#   tests/consumer/consumer.sh BUILD_DIR SOURCE_DIR
#
# $ERRAND_CONSUMER_CXXFLAGS: added to every build here (a sanitizer build's
# -fsanitize=..., which a program linked to that liberrand needs too).
set -euo pipefail
extra=${ERRAND_CONSUMER_CXXFLAGS:-}
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/errand-consumer-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "consumer: FAIL: $*" >&2
  for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }; done
  exit 1
}
step() { echo "consumer: $*"; }
# Polls (every 0.2 s, up to $1 seconds) until the command succeeds.
eventually() {
  local limit=$(( $1 * 5 )); shift
  for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.2; done
  return 1
}

prefix=$tmp/prefix
step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "cmake --install"
[ -x "$prefix/bin/errand" ] || fail "no bin/errand in the prefix"

step "examples/service with find_package(errand)"
cmake -S "$src/examples/service" -B "$tmp/service" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$extra" \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/service-configure.log" 2>&1 || fail "configure service"
cmake --build "$tmp/service" -j2 >"$tmp/service-build.log" 2>&1 || fail "build service"

step "a one-file program with pkg-config"
cat >"$tmp/one.cc" <<'CC'
#include <errand/errand.h>
#include <iostream>
struct Ping {
  void perform(int n) { std::cout << "ping " << n << "\n"; }
};
ERRAND_JOB(Ping);
int main() {
  auto client = errand::Client::open("memory://one");
  if (!client) return 1;
  auto jid = client->perform_async<Ping>(1);
  if (!jid) return 1;
  std::cout << "enqueued " << *jid << " with errand " << ERRAND_VERSION << "\n";
  return 0;
}
CC
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs errand) || fail "pkg-config errand"
# shellcheck disable=SC2086
c++ $extra "$tmp/one.cc" -o "$tmp/one" $flags -Wl,-rpath,"$prefix/lib" >"$tmp/one-build.log" 2>&1 \
  || fail "build with pkg-config flags: $flags"
"$tmp/one" | grep -q "^enqueued .* with errand " || fail "the pkg-config program did not run"

step "errand new project, built and tested"
(cd "$tmp" && "$prefix/bin/errand" new project gen-app >"$tmp/new.log") || fail "errand new project"
cmake -S "$tmp/gen-app" -B "$tmp/gen-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="$extra" \
  >"$tmp/gen-configure.log" 2>&1 || fail "configure the generated project"
cmake --build "$tmp/gen-build" -j2 >"$tmp/gen-build.log" 2>&1 || fail "build the generated project"
ctest --test-dir "$tmp/gen-build" --output-on-failure >"$tmp/gen-test.log" 2>&1 \
  || fail "the generated project's test"
grep -q "100% tests passed" "$tmp/gen-test.log" || fail "the generated project has no passing test"

step "the service enqueues, a worker from the prefix runs the job"
store="sqlite://$tmp/jobs.db"
export SIGNUP_OUTBOX="$tmp/outbox.txt"
"$tmp/service/signup_service" --port 0 --store "$store" >"$tmp/service.log" 2>&1 &
pids+=($!)
eventually 30 grep -q "listening on" "$tmp/service.log" || fail "the service did not start"
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/service.log" | head -1)
jid=$(curl -fsS --data-urlencode "email=ada@example.com" "$url/signup") || fail "POST /signup"
[ -n "$jid" ] || fail "no jid from POST /signup"
"$prefix/bin/errand" worker -r "$tmp/service/libsignup_jobs.so" --store "$store" -c 2 \
  >"$tmp/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
eventually 60 grep -q "welcome ada@example.com (jid $jid)" "$SIGNUP_OUTBOX" 2>/dev/null \
  || fail "the worker did not run job $jid"
kill -TERM "$worker"
wait "$worker" || fail "the worker did not stop cleanly"

step "errand web from the prefix loads its dashboard module"
[ -f "$prefix/lib/errand/liberrand_web.so" ] || fail "no lib/errand/liberrand_web.so in the prefix"
"$prefix/bin/errand" web -p 0 --store "$store" >"$tmp/web.log" 2>&1 &
web=$!
pids+=("$web")
eventually 30 grep -q "^errand web: http" "$tmp/web.log" || fail "errand web did not start"
web_url=$(sed -n 's/^errand web: //p' "$tmp/web.log")
curl -fsS "${web_url}api/stats" | grep -q '"processed"' || fail "GET ${web_url}api/stats"
kill -TERM "$web"
wait "$web" || fail "errand web did not stop cleanly"
step "ok"
