#!/usr/bin/env bash
# The Debian package (ctest: package_deb): builds it with CPack from the
# build tree, checks what it holds and its Depends, extracts it into a
# temporary root and runs the extracted `errand --version`, and `errand web`,
# which must find its dashboard module (lib/errand/liberrand_web.so).
#
#   tests/consumer/package_deb.sh BUILD_DIR VERSION
set -euo pipefail
build=$(cd "$1" && pwd)
version=$2
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "package_deb: skipped: no $tool (dpkg-dev)"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/errand-deb-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package_deb: FAIL: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 \
  || { tail -30 "$tmp/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/out/errand_"$version"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no errand_${version}_<arch>.deb in $tmp/out: $(ls "$tmp/out")"

dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/contents"
for want in \
  './usr/bin/errand' \
  './usr/lib/liberrand.so.[0-9.]*' \
  './usr/lib/liberrand_testing.so.[0-9.]*' \
  './usr/lib/errand/liberrand_web.so' \
  './usr/include/errand/errand.h' \
  './usr/include/errand/testing.h' \
  './usr/include/errand/version.h' \
  './usr/lib/cmake/errand/errandConfig.cmake' \
  './usr/lib/cmake/errand/errandConfigVersion.cmake' \
  './usr/lib/pkgconfig/errand.pc' \
  './usr/lib/systemd/system/errand@.service'; do
  grep -qx "$want" "$tmp/contents" || fail "the package lacks $want; it holds:
$(cat "$tmp/contents")"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libsqlite3 libhiredis libpq5 libcpp-httplib; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done

dpkg-deb -x "$deb" "$tmp/root"
out=$(LD_LIBRARY_PATH="$tmp/root/usr/lib" "$tmp/root/usr/bin/errand" --version) \
  || fail "the extracted errand --version failed"
[ "$out" = "errand $version" ] || fail "the extracted errand says '$out', not 'errand $version'"
# The dashboard module, found from the binary (<libdir>/errand/), not from
# the build tree, serves until told to stop.
LD_LIBRARY_PATH="$tmp/root/usr/lib" "$tmp/root/usr/bin/errand" web -p 0 \
  --store "sqlite://$tmp/web.db" >"$tmp/web.out" 2>"$tmp/web.err" &
web_pid=$!
for _ in $(seq 100); do
  grep -q '^errand web: http' "$tmp/web.out" 2>/dev/null && break
  kill -0 "$web_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '^errand web: http' "$tmp/web.out" \
  || { kill "$web_pid" 2>/dev/null; fail "the extracted errand web did not start: $(cat "$tmp/web.err")"; }
kill -TERM "$web_pid"
wait "$web_pid" || fail "the extracted errand web did not stop cleanly on SIGTERM"
grep -q '^Type=notify$' "$tmp/root/usr/lib/systemd/system/errand@.service" \
  || fail "errand@.service is not Type=notify"
echo "package_deb: ok ($(basename "$deb"), $(wc -l <"$tmp/contents") entries)"
