#!/usr/bin/env bash
# make package's .deb (ctest: package_deb): builds it with CPack from this
# build into a temporary directory, checks its contents and Depends, extracts
# it into a temporary root and runs the extracted `errand --version`.
# Usage: package_test.sh BUILD_DIR CPACK
set -euo pipefail
build=$1 cpack=${2:-cpack}
tmp=$(mktemp -d /tmp/errand-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && "$cpack" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail cpack; }
deb=$(ls "$tmp"/out/errand_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { ls -R "$tmp/out"; fail "no errand_<version>_amd64.deb"; }
dpkg-deb -c "$deb" >"$tmp/contents"
for f in ./usr/bin/errand '/liberrand.so' ./usr/include/errand/errand.h ./usr/include/errand/version.h \
  ./usr/include/errand/testing.h /cmake/errand/errandConfig.cmake /pkgconfig/errand.pc \
  '/systemd/system/errand@.service' /errand/liberrand_examples.so; do
  grep -qF -- "$f" "$tmp/contents" || { cat "$tmp/contents"; fail "the .deb lacks $f"; }
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in libhiredis libsqlite3 libyaml-cpp nlohmann-json3-dev; do
  [[ "$depends" == *"$d"* ]] || fail "Depends lacks $d: $depends"
done
dpkg-deb -x "$deb" "$tmp/root"
unit=$tmp/root/usr/lib/systemd/system/errand@.service
grep -q '^ExecStart=errand worker -C /etc/errand/%i.yml' "$unit" || fail "unit ExecStart"
grep -q '^Type=notify' "$unit" || fail "unit Type=notify"
version=$("$tmp/root/usr/bin/errand" --version) || fail "extracted errand --version"
[[ "$version" == errand\ * ]] || fail "version: $version"
echo "package test OK: $(basename "$deb"), $version"
