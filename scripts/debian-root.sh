#!/usr/bin/env bash
# Makes (once) and prints the path of a Debian bookworm root file system for booting under systemd-nspawn: the
# package tests (tests/Appliance.Package.Tests) and the packaging benchmark install camfw's .deb in it. Cached in
# .build/debian-bookworm (never under /tmp: a booted systemd would clean it) and reused while its package list is the
# one below; the boxes' packages camfw depends on are in it already, since the containers have no route out.
# Never boot this root's systemd against the host: only `systemd-nspawn --register=no --keep-unit -b -D ROOT`.
#
# usage: scripts/debian-root.sh [DIR]      (root; needs debootstrap and network access to the Debian mirror)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$repo/.build/debian-bookworm}"
mirror="${CAMFW_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# systemd as PID 1, and camfw's Depends (libpcap0.8, iproute2, ethtool, libssl3, adduser and what dpkg-shlibdeps
# finds for the .NET runtime).
packages="systemd,systemd-sysv,dbus,libpcap0.8,iproute2,ethtool,adduser,libssl3,libstdc++6,libgcc-s1,zlib1g,procps"
stamp="$dir/.camfw-debian-root"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ]; then
  echo "$dir"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "debian-root.sh: needs root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debian-root.sh: debootstrap is missing (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ]; then
  echo "$dir"
  exit 0
fi

echo "debian-root.sh: debootstrap bookworm into $dir (once; about a minute) ..." >&2
rm -rf "$dir.new" "$dir"
debootstrap --variant=minbase --include="$packages" bookworm "$dir.new" "$mirror" >"$dir.log" 2>&1 \
  || { tail -20 "$dir.log" >&2; rm -rf "$dir.new"; exit 1; }
# Quiet, fast boots: no getty on the console, no periodic jobs; a machine id per boot (nspawn supplies one).
rm -f "$dir.new/etc/machine-id"
ln -sf /dev/null "$dir.new/etc/systemd/system/console-getty.service"
for timer in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$dir.new/etc/systemd/system/$timer"
done
echo "$packages" > "$dir.new/.camfw-debian-root"
mv "$dir.new" "$dir"
echo "$dir"
