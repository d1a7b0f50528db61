#!/usr/bin/env bash
# Installs camfw on this Debian machine from the repository, the package way: builds the .deb (image/build-deb.sh,
# needs the .NET SDK here, not on the box) and installs it with apt, which brings libpcap, iproute2 and ethtool.
# On a box without the SDK, copy .build/deb/camfw_<version>_amd64.deb there and `apt install ./camfw_..._amd64.deb`.
#
# Usage: sudo image/install.sh [--camera-if IF --uplink-if IF] [--start]
#   --camera-if/--uplink-if  bridge ports written into /etc/camfw/camfw.json (the shipped one names eth1 and eth2)
#   --start                  start (or restart) the service now
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
camera_if=""
uplink_if=""
start=0
while [ $# -gt 0 ]; do
  case "$1" in
    --camera-if) camera_if="$2"; shift 2 ;;
    --uplink-if) uplink_if="$2"; shift 2 ;;
    --start) start=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
say() { echo "install.sh: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "run as root (sudo $0)"; exit 1; }

deb="$("$repo/image/build-deb.sh")"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" >&2

# Only the placeholders of the shipped file are replaced: an edited configuration is left as it is.
if [ -n "$camera_if" ]; then sed -i "s/\"CameraInterface\": \"eth1\"/\"CameraInterface\": \"$camera_if\"/" /etc/camfw/camfw.json; fi
if [ -n "$uplink_if" ]; then sed -i "s/\"UplinkInterface\": \"eth2\"/\"UplinkInterface\": \"$uplink_if\"/" /etc/camfw/camfw.json; fi

if [ "$start" = 1 ]; then
  systemctl enable camfw.service >&2
  systemctl restart camfw.service
  say "camfw started: systemctl status camfw; camfw status"
else
  say "installed $deb; set the ports in /etc/camfw/camfw.json, then: systemctl start camfw"
fi
