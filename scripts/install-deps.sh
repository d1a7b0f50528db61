#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the appliance, its lab and its tests. Idempotent and quiet when
# everything is present. Needs root (or sudo) only when something is missing.
set -euo pipefail

# ieee-data: the IEEE OUI registry camfw learn names camera vendors from (/usr/share/ieee-data/oui.csv).
packages=(libpcap0.8 libpcap0.8-dev ieee-data rsyslog rsyslog-gnutls gnutls-bin tcpdump tcpreplay ethtool iproute2 python3 python3-scapy gcc libc6-dev procps)
# The Debian package (image/build-deb.sh) and its tests: debhelper builds it, lintian checks it, debootstrap makes the
# bookworm root that systemd-nspawn boots to install it in, nsenter (util-linux) drives that container.
packages+=(dpkg-dev debhelper lintian debootstrap systemd-container util-linux)
# The XDP flow offload (src/Appliance.Transport.Xdp): clang compiles bpf/*.bpf.c for the BPF target at build time
# against libbpf's headers; libbpf1 loads it at run time; bpftool inspects what is attached.
packages+=(clang llvm libbpf-dev libbpf1 bpftool)
# The web console's tests drive Debian's chromium by path (Playwright never downloads a browser): test.sh sets
# CAMFW_WITH_BROWSER=1; running the appliance or the lab does not need it.
[ "${CAMFW_WITH_BROWSER:-0}" = "1" ] && packages+=(chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
