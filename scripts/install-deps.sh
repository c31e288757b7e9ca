#!/usr/bin/env bash
# Installs the Debian packages errand needs to build, test and run, if any is
# missing. Idempotent: does nothing (and needs no network) when all are there.
set -euo pipefail
pkgs=(cmake ninja-build g++ make pkg-config git
      libsqlite3-dev sqlite3 libpq-dev postgresql-15 libhiredis-dev nlohmann-json3-dev libsimdjson-dev libspdlog-dev libfmt-dev
      libcli11-dev libyaml-cpp-dev libhowardhinnant-date-dev tzdata libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev
      redis-server redis-tools clang python3 ruby ruby-sidekiq ruby-rack-test nodejs chromium
      ruby-delayed-job ruby-delayed-job-active-record ruby-sqlite3
      ruby-activejob)
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
