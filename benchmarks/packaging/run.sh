#!/usr/bin/env bash
# Packaging flavours compared where they will run: each .deb is installed in a booted Debian bookworm container
# (systemd-nspawn, the cached root from scripts/debian-root.sh) whose namespace holds the two bridge ports, between a
# sender namespace (tcpreplay) and a receiver namespace (frames counted from the veth's rx_packets). The policy and
# traffic are the bridge benchmark's (benchmarks/bridge/gen_traffic.py: 1,000 cameras, every frame allowed).
# Per package:
#   - .deb size and installed size;
#   - start -> READY: systemd's InactiveExit -> ActiveEnter timestamps of `systemctl start` (Type=notify), per start;
#   - burst right after READY: 150,000 small (60-byte) frames at tcpreplay's top speed, sent the moment
#     `systemctl start` returns, and how many did not arrive (the bridge benchmark's first-trial figure), per start;
#   - RSS (VmRSS) of the service after 60 s of video-sized frames at a steady rate;
#   - the same burst once more on the warm service after those 60 s: what it loses warm is what the machine cannot
#     forward at that rate at all, so cold minus warm is what the start costs.
# --burst-pps N sends the bursts at N frames a second instead of tcpreplay's top speed: at a rate the warm service
# forwards without loss, every frame lost in the cold burst is the start's.
#
# usage: benchmarks/packaging/run.sh [--starts N] [--load-pps N] [--burst-pps N] DEB...   (root; tcpreplay, python3-scapy, nspawn)
# Not a test: figures depend on the machine and on what else runs on it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
starts=3
load_pps=20000
burst=150000
burst_pps=""
debs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --starts) starts="$2"; shift 2 ;;
    --load-pps) load_pps="$2"; shift 2 ;;
    --burst-pps) burst_pps="$2"; shift 2 ;;
    -*) echo "unknown argument $1" >&2; exit 2 ;;
    *) debs+=("$(readlink -f "$1")"); shift ;;
  esac
done
[ ${#debs[@]} -gt 0 ] || { echo "usage: $0 [--starts N] [--load-pps N] [--burst-pps N] DEB..." >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root" >&2; exit 1; }

droot="$("$root/scripts/debian-root.sh")"
suffix="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
ns_tx="cptx$suffix"; ns_ap="cpap$suffix"; ns_rx="cprx$suffix"
tx_if="cp${suffix}t"; ap_a="cp${suffix}a"; ap_b="cp${suffix}b"; rx_if="cp${suffix}r"
work="$root/.build/packaging-bench.$suffix"
mkdir -p "$work/mnt"
nspawn_pid=""; leader=""

stop_container() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid"
    for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
  fi
  [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null || true
  nspawn_pid=""; leader=""
}
cleanup() {
  stop_container
  for ns in "$ns_tx" "$ns_ap" "$ns_rx"; do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Inside the container, through its PID 1's namespaces.
box() { nsenter -t "$leader" -m -u -i -n -p -r -w -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@"; }
prop() { box systemctl show -P "$1" camfw.service; }

/usr/bin/python3 "$root/benchmarks/bridge/gen_traffic.py" "$work" 5 >/dev/null
cp -r "$work/policy" "$work/mnt/policy"

for ns in "$ns_tx" "$ns_ap" "$ns_rx"; do
  ip netns add "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add "$tx_if" type veth peer name "$ap_a"
ip link add "$ap_b" type veth peer name "$rx_if"
ip link set "$tx_if" netns "$ns_tx"; ip link set "$ap_a" netns "$ns_ap"
ip link set "$ap_b" netns "$ns_ap"; ip link set "$rx_if" netns "$ns_rx"
ip netns exec "$ns_rx" ip link set "$rx_if" address 02:00:00:00:0a:01
for pair in "$ns_tx:$tx_if" "$ns_ap:$ap_a" "$ns_ap:$ap_b" "$ns_rx:$rx_if"; do
  ns="${pair%%:*}"; dev="${pair#*:}"
  ip netns exec "$ns" ip link set "$dev" up
  ip netns exec "$ns" ethtool -K "$dev" gro off tso off gso off tx off rx off >/dev/null 2>&1 || true
done
rx_count() { ip netns exec "$ns_rx" cat "/sys/class/net/$rx_if/statistics/rx_packets"; }
# One burst of $burst small frames (top speed or --burst-pps); sets sent, got and took.
send_burst() {
  local before out rate=(--topspeed)
  [ -n "$burst_pps" ] && rate=(--pps="$burst_pps")
  before=$(rx_count)
  out=$(ip netns exec "$ns_tx" tcpreplay -i "$tx_if" "${rate[@]}" --limit="$burst" --loop=0 "$work/small.pcap" 2>&1)
  sleep 0.5
  got=$(( $(rx_count) - before ))
  sent=$(echo "$out" | sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' | head -1)
  took=$(echo "$out" | sed -n 's/.*Actual: .* packets (.*) sent in \([0-9.]*\) seconds.*/\1/p' | head -1)
}

for deb in "${debs[@]}"; do
  name="$(basename "$(dirname "$deb")")-$(basename "$deb")"  # DIR-FILE: build each flavour into its own directory
  cp "$deb" "$work/mnt/$name"
  systemd-nspawn --register=no --keep-unit -b -q -D "$droot" --volatile=overlay --network-namespace-path="/run/netns/$ns_ap" --capability=CAP_NET_ADMIN \
    --bind-ro="$work/mnt:/mnt/bench" --console=read-only >"$work/console.log" 2>&1 &
  nspawn_pid=$!
  for _ in $(seq 1 300); do
    for c in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
      [ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] && leader="$c"
    done
    [ -n "$leader" ] && break; sleep 0.1
  done
  [ -n "$leader" ] || { echo "container did not start" >&2; cat "$work/console.log" >&2; exit 1; }
  for _ in $(seq 1 300); do
    state="$(box systemctl is-system-running 2>/dev/null || true)"
    [ "$state" = running ] || [ "$state" = degraded ] && break; sleep 0.2
  done

  box apt-get install -y -q "/mnt/bench/$name" >/dev/null
  box sh -c "rm -rf /etc/camfw/policies/* && cp -r /mnt/bench/policy/. /etc/camfw/policies/ && \
    sed -i -e 's/\"eth1\"/\"$ap_a\"/' -e 's/\"eth2\"/\"$ap_b\"/' /etc/camfw/camfw.json"
  installed_kb="$(box dpkg-query -W -f='${Installed-Size}' camfw)"
  echo "== $name: .deb $(du -k "$deb" | cut -f1) KiB, installed $installed_kb KiB" >&2

  for i in $(seq 1 "$starts"); do
    box systemctl start camfw.service
    send_burst
    t0=$(prop InactiveExitTimestampMonotonic); t1=$(prop ActiveEnterTimestampMonotonic)
    ready_ms=$(( (t1 - t0) / 1000 ))
    echo "$name start $i: start->READY ${ready_ms} ms; burst of $sent small frames in ${took:-?} s, lost $((sent - got))" >&2
    echo "$name start=$i ready_ms=$ready_ms burst_sent=$sent burst_lost=$((sent - got)) burst_seconds=${took:-?}"
    box systemctl stop camfw.service
  done

  box systemctl start camfw.service
  pid=$(prop MainPID)
  ip netns exec "$ns_tx" tcpreplay -i "$tx_if" --pps="$load_pps" --duration=60 --loop=0 "$work/video.pcap" >/dev/null 2>&1
  # /proc/PID/status separates the field from its value with a tab (and spaces): let awk split it.
  rss_kb=$(box awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  hwm_kb=$(box awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  [ -n "$rss_kb" ] || { echo "$name: could not read the service's memory (MainPID $pid)" >&2; rss_kb=0; hwm_kb=0; }
  echo "$name: RSS after 60 s at $load_pps pps of video frames: $((rss_kb / 1024)) MiB (peak $((hwm_kb / 1024)) MiB)" >&2
  send_burst
  echo "$name warm: burst of $sent small frames in ${took:-?} s, lost $((sent - got))" >&2
  echo "$name deb_kib=$(du -k "$deb" | cut -f1) installed_kib=$installed_kb rss_kib=$rss_kb hwm_kib=$hwm_kb warm_burst_sent=$sent warm_burst_lost=$((sent - got)) warm_burst_seconds=${took:-?}"
  box systemctl stop camfw.service
  stop_container
done
