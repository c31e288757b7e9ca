#!/usr/bin/env bash
# Installs the Debian packages errand needs, if any is missing. Idempotent:
# does nothing (and needs no network) when all are there.
#
#   scripts/install-deps.sh          what building and running errand need (make build, make demo)
#   scripts/install-deps.sh test     that, plus the test world: GoogleTest, redis-server,
#                                    PostgreSQL, Ruby and Sidekiq, Chromium, clang (make test, make lint)
set -euo pipefail
build=(cmake ninja-build g++ make pkg-config git
       libsqlite3-dev sqlite3 libpq-dev libhiredis-dev nlohmann-json3-dev libsimdjson-dev libspdlog-dev
       libfmt-dev libcli11-dev libyaml-cpp-dev libhowardhinnant-date-dev tzdata libcpp-httplib-dev
       nodejs)
test=(libgtest-dev libgmock-dev libbenchmark-dev
      redis-server redis-tools postgresql-15 clang python3 ruby ruby-sidekiq ruby-rack-test chromium
      ruby-delayed-job ruby-delayed-job-active-record ruby-sqlite3 ruby-pg ruby-activejob
      dpkg-dev file curl libclang-rt-dev)
case "${1:-build}" in
  build) pkgs=("${build[@]}") ;;
  test) pkgs=("${build[@]}" "${test[@]}") ;;
  *) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "errand: installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
