#!/usr/bin/env bash
# The Debian package end to end (ctest package_deb): cpack builds canary-guard_<version>_<arch>.deb from this build
# tree; dpkg-deb shows its control data (dependencies from dpkg-shlibdeps, conffiles) and its files; the files are
# extracted into a scratch root where systemd-sysusers/-tmpfiles --root create the user and /etc/canary-guard and the
# extracted binary checks the extracted example configuration. As root (CI and the dev machine are throwaway), it is
# then installed for real with dpkg -i, run from /usr/bin, removed and purged; a trap purges it on any failure and
# dpkg -s must then know nothing of it. A user the test's install created is deleted again.
#   test_deb.sh BUILD_DIR
set -euo pipefail
# --version prints "canary-guard <version>", possibly followed by " (<git revision>)".
build=$(cd "$1" && pwd)
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }
[ -x "$build/daemon/canary-guard" ] || fail "no $build/daemon/canary-guard: build the tree first"
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
scratch=$(mktemp -d /tmp/cg-test-deb.XXXXXX)
installed=0 user_existed=0
getent passwd canary-guard >/dev/null && user_existed=1
cleanup() {
  if [ "$installed" = 1 ]; then dpkg --purge canary-guard >/dev/null 2>&1 || true; fi
  if [ "$installed" = 1 ] && [ "$user_existed" = 0 ]; then userdel canary-guard >/dev/null 2>&1 || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "test_deb: cpack -G DEB in $build"
t0=$(date +%s%N)
(cd "$scratch" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log"; fail "cpack failed"; }
deb=$(ls "$scratch"/out/canary-guard_"$version"_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || { cat "$scratch/cpack.log"; fail "no canary-guard_${version}_*.deb produced"; }
echo "test_deb: built $(basename "$deb") ($(( $(stat -c %s "$deb") / 1024 )) KiB) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# Control data: name, version, dependencies on the runtime libraries the binary links, conffiles, scripts.
info=$(dpkg-deb -I "$deb")
dpkg-deb -f "$deb" | grep -v '^ '
echo "$info" | grep -q "^ Package: canary-guard$" || fail "Package field"
echo "$info" | grep -q "^ Version: $version$" || fail "Version field"
depends=$(echo "$info" | sed -n 's/^ Depends: //p')
for lib in libc6 libstdc++6 libssl3 libyaml-cpp0.7 libsystemd0 libspdlog1.10 libfmt9 libsimdjson14 libtomlplusplus3 \
  libprometheus-cpp-core1.0; do
  echo "$depends" | grep -q "\b$lib\b" || fail "Depends lacks $lib: $depends"
done
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture"
dpkg-deb -e "$deb" "$scratch/control"
grep -qx /etc/canary-guard/canary-guard.toml "$scratch/control/conffiles" ||
  fail "the example configuration is not a conffile"
grep -qx /etc/default/canary-guard "$scratch/control/conffiles" || fail "/etc/default/canary-guard is not a conffile"
for s in postinst prerm postrm; do [ -x "$scratch/control/$s" ] || fail "no executable $s"; done

# Files.
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' > "$scratch/contents"
cat "$scratch/contents"
for f in ./usr/bin/canary-guard ./usr/lib/systemd/system/canary-guard.service ./usr/lib/sysusers.d/canary-guard.conf \
  ./usr/lib/tmpfiles.d/canary-guard.conf ./etc/default/canary-guard ./etc/canary-guard/canary-guard.toml \
  ./usr/share/doc/canary-guard/README.md ./usr/share/doc/canary-guard/manifests/rbac.yaml; do
  grep -q " $f$" "$scratch/contents" || fail "$f missing from the package"
done
grep -q '^-rwxr-xr-x root/root \./usr/bin/canary-guard$' "$scratch/contents" || fail "binary mode or owner"
if grep -q '/usr/local\|/build/\|/work/' "$scratch/contents"; then fail "a build or /usr/local path in the package"; fi

# Offline: extract into a scratch root; the sysusers/tmpfiles entries applied there; the extracted binary runs.
root=$scratch/root
dpkg-deb -x "$deb" "$root"
"$root/usr/bin/canary-guard" --version | grep -Eq "^canary-guard $version( |$)" || fail "extracted --version"
"$root/usr/bin/canary-guard" check-config "$root/etc/canary-guard/canary-guard.toml" ||
  fail "check-config on the packaged example"
mkdir -p "$root/etc"
touch "$root/etc/passwd" "$root/etc/group"
systemd-sysusers --root="$root" canary-guard.conf
grep -q '^canary-guard:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$root/etc/passwd" ||
  fail "sysusers entry did not create the user in the scratch root"
systemd-tmpfiles --root="$root" --create canary-guard.conf
[ "$(stat -c '%a %U' "$root/etc/canary-guard")" = "750 root" ] || fail "tmpfiles: /etc/canary-guard mode/owner"
echo "test_deb: offline checks passed (extracted binary, sysusers and tmpfiles in a scratch root)"

if [ "$(id -u)" != 0 ]; then
  echo "test_deb: not root: the dpkg -i / remove / purge part was not run"
  exit 0
fi
if dpkg-query -W -f='${Status}' canary-guard 2>/dev/null | grep -q 'installed'; then
  fail "canary-guard is already installed on this machine; this test will not replace it (dpkg --purge canary-guard)"
fi
installed=1
dpkg -i "$deb" >"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; fail "dpkg -i"; }
dpkg -s canary-guard | grep -q '^Status: install ok installed$' || fail "dpkg -s after install"
/usr/bin/canary-guard --version | grep -Eq "^canary-guard $version( |$)" || fail "installed --version"
/usr/bin/canary-guard check-config /etc/canary-guard/canary-guard.toml || fail "installed check-config"
getent passwd canary-guard >/dev/null || fail "postinst did not create the canary-guard user"
[ "$(stat -c '%a %U %G' /etc/canary-guard)" = "750 root canary-guard" ] ||
  fail "/etc/canary-guard is $(stat -c '%a %U %G' /etc/canary-guard), want 750 root canary-guard"
systemd-analyze verify /usr/lib/systemd/system/canary-guard.service || fail "systemd-analyze verify (installed unit)"
if [ -d /run/systemd/system ] && systemctl is-active --quiet canary-guard.service; then
  fail "the package started the service"
fi
dpkg -r canary-guard >>"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; fail "dpkg -r"; }
[ ! -e /usr/bin/canary-guard ] || fail "binary left after remove"
[ -f /etc/canary-guard/canary-guard.toml ] || fail "remove must keep the conffiles"
dpkg-query -W -f='${Status}' canary-guard | grep -q 'config-files' || fail "status after remove"
dpkg --purge canary-guard >>"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; fail "dpkg --purge"; }
if dpkg-query -W -f='${Status}' canary-guard 2>/dev/null | grep -q 'install\|config-files'; then
  fail "dpkg still knows canary-guard after purge"
fi
for f in /etc/canary-guard /etc/default/canary-guard /usr/lib/systemd/system/canary-guard.service; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
installed=0
[ "$user_existed" = 1 ] || userdel canary-guard
echo "test_deb: installed with dpkg -i, ran --version and check-config from /usr/bin, removed and purged cleanly"
