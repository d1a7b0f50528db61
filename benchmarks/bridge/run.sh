#!/usr/bin/env bash
# Bridge throughput: camfw's data plane against a minimal C libpcap forwarder (pcapfwd.c) and the kernel bridge,
# on veth pairs between network namespaces this script creates and always removes. tcpreplay sends generated
# 1,000-camera traffic (video-sized and small frames) into the camera-side port; frames arriving at the far side
# are counted from the receiving veth's rx_packets. For each forwarder and traffic type it reports the top-speed
# send rate and delivery, then the highest rate with zero loss (binary search on tcpreplay --pps), and camfw's
# ratio to pcapfwd.
# Forwarders: pcapfwd, camfw (user space), camfw-xdp (established flows forwarded by the XDP fast path), the kernel
# bridge, and `none` (no forwarder: the sender's own cost, the baseline). Per top-speed trial it reads the whole
# machine's CPU time from /proc/stat (user+nice+system+irq+softirq) and reports it per frame, and the forwarding cost
# = that minus the baseline's per frame, with ratios to pcapfwd and to the kernel bridge. It also reports the first
# top-speed trial after each start (cold), which earlier versions discarded.
# The far veth ends run an XDP pass program for every forwarder (a veth takes redirected frames only when its peer
# runs XDP), so all forwarders see the same receive path.
#
# usage: benchmarks/bridge/run.sh [--frames-per-trial N] [--steps N] [--forwarders "none camfw-xdp ..."] [--buffer-size BYTES]
#        [--first-pps N] [--profile DIR] [--receive-off-sender | --data-plane-cpu N] [--threaded-napi] [--starts N]
#        (root; needs tcpreplay, gcc, python3-scapy). --forwarders runs a subset (the ratios need none and pcapfwd);
#        --buffer-size sets camfw's capture rings (default: the appliance's Bridge:Port:BufferSize default);
#        --first-pps N sends the first trial after each start at N frames a second instead of top speed: at a rate the
#        warm forwarder keeps up with, every frame it loses is the start's.
#        --profile DIR records where the machine's CPU goes during each warm top-speed trial (`perf record -a -g`, one
#        DIR/<traffic>-<forwarder>.perf.data and a .txt of the top symbols each) and, with kernel.bpf_stats_enabled on
#        for the run, what each XDP program costs per run (its run time over its run count, from bpftool). perf itself
#        costs CPU, so take the figures of a profiled run for attribution, not for the table.
#        --receive-off-sender runs the receive work of the forwarder's camera-side port on another CPU than the
#        sender's, for every forwarder alike, as a NIC's interrupt on its own queue would on a real box (on a veth
#        it otherwise runs in the softirq of the CPU that sent the frame, one frame per poll, and the sender pays for
#        it): tcpreplay is pinned to CPU 0; a port with a NAPI instance (a veth has one while an XDP program is
#        attached: camfw-xdp's ports) gets threaded NAPI (/sys/class/net/DEV/threaded) with its kernel threads on the
#        other CPUs; a port without one (pcapfwd, camfw, the kernel bridge) gets RPS to the other CPUs
#        (/sys/class/net/DEV/queues/rx-0/rps_cpus). The far ends stay as they are. On 2 CPUs a user-space forwarder
#        then shares its CPU with its own receive work, so read it as an experiment, not as the comparison.
#        --threaded-napi gives only ports that have a NAPI instance (camfw-xdp's) threaded NAPI, unpinned: the
#        other forwarders keep veth's default.
#        --starts N: after each forwarder's measured trials, N more cold starts of it, each followed by one first trial
#        (at --first-pps), reporting what each lost: a start's loss depends on where the scheduler puts the threads, so
#        one start says little.
#        --data-plane-cpu N runs each forwarder's user-space data path on CPU N and everything else of the run on the
#        other CPUs, as an appliance keeps its data-plane thread off the CPUs that take the ports' receive work:
#        camfw's data-plane thread (BridgeBench --cpus N, i.e. Bridge:DataPlaneCpus) and pcapfwd (taskset) on N;
#        tcpreplay, and with --threaded-napi camfw-xdp's NAPI threads, on the others. The kernel bridge has no
#        user-space part; its work stays where veth puts it (the sender's softirq). Not with --receive-off-sender.
# Not a test: figures depend on the machine and on what else runs on it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/benchmarks/bridge"
frames_per_trial=150000
steps=6
forwarders="none pcapfwd camfw camfw-xdp kernel"
camfw_args=()
first_rate=top
profile_dir=""
off_sender=0
threaded_napi=0
dp_cpu=""
starts=0
while [ $# -gt 0 ]; do
  case "$1" in
    --frames-per-trial) frames_per_trial="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --forwarders) forwarders="$2"; shift 2 ;;
    --buffer-size) camfw_args=(--buffer-size "$2"); shift 2 ;;
    --first-pps) first_rate="$2"; shift 2 ;;
    --profile) profile_dir="$(realpath -m "$2")"; shift 2 ;;
    --receive-off-sender) off_sender=1; shift ;;
    --threaded-napi) threaded_napi=1; shift ;;
    --data-plane-cpu) dp_cpu="$2"; shift 2 ;;
    --starts) starts="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 1; }
for tool in tcpreplay gcc ip ethtool /usr/bin/python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

suffix="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
ns_tx="cbtx$suffix"; ns_ap="cbap$suffix"; ns_rx="cbrx$suffix"
tx_if="cb${suffix}t"; ap_a="cb${suffix}a"; ap_b="cb${suffix}b"; rx_if="cb${suffix}r"
work="$(mktemp -d /tmp/camfw-bridge-bench.XXXXXX)"
fwd_pid=""

bpf_stats_before=""
cleanup() {
  [ -n "$bpf_stats_before" ] && sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_before" || true
  [ -n "$fwd_pid" ] && kill "$fwd_pid" 2>/dev/null && wait "$fwd_pid" 2>/dev/null || true
  for ns in "$ns_tx" "$ns_ap" "$ns_rx"; do ip netns delete "$ns" 2>/dev/null || true; done
  ip link delete "$tx_if" 2>/dev/null || true
  ip link delete "$ap_b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== load before the run: $(uptime)" >&2
if [ -n "$profile_dir" ]; then
  command -v perf >/dev/null && command -v bpftool >/dev/null || { echo "run.sh: --profile needs perf and bpftool (linux-perf, bpftool)" >&2; exit 1; }
  mkdir -p "$profile_dir"
  bpf_stats_before=$(sysctl -n kernel.bpf_stats_enabled)
  sysctl -qw kernel.bpf_stats_enabled=1
  # perf names JIT-compiled .NET frames from /tmp/perf-PID.map; W^X would hide them behind double mappings.
  export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
fi
echo "== building pcapfwd, BridgeBench; generating 1,000-camera traffic" >&2
gcc -O2 -Wall -o "$work/pcapfwd" "$here/pcapfwd.c" -lpcap
dotnet build "$here/BridgeBench/BridgeBench.csproj" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" -o "$work/bench" >&2
/usr/bin/python3 "$here/gen_traffic.py" "$work" 5

echo "== namespaces $ns_tx -> $ns_ap -> $ns_rx" >&2
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
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  ip netns exec "$ns" ip link set "$dev" up
  ip netns exec "$ns" ethtool -K "$dev" gro off tso off gso off tx off rx off >/dev/null 2>&1 || true
done
ip netns exec "$ns_tx" ip link set dev "$tx_if" xdpdrv obj "$work/bench/xdp_pass.bpf.o" sec xdp
ip netns exec "$ns_rx" ip link set dev "$rx_if" xdpdrv obj "$work/bench/xdp_pass.bpf.o" sec xdp

# Whole-machine busy CPU time in clock ticks: user + nice + system + irq + softirq of the aggregate cpu line.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# CPU time (user+system, in clock ticks) of the forwarder process; `ip netns exec` execs in place, so $fwd_pid is it.
cpu_ticks() { [ -n "$fwd_pid" ] && awk '{print $14 + $15}' "/proc/$fwd_pid/stat" || echo 0; }

rx_count() { ip netns exec "$ns_rx" cat "/sys/class/net/$rx_if/statistics/rx_packets"; }

start_forwarder() { # $1 = camfw | pcapfwd | kernel
  case "$1" in
    kernel)
      ip netns exec "$ns_ap" ip link add br0 type bridge
      ip netns exec "$ns_ap" ip link set "$ap_a" master br0
      ip netns exec "$ns_ap" ip link set "$ap_b" master br0
      ip netns exec "$ns_ap" ip link set br0 up
      sleep 0.2
      return ;;
    none) return ;;
    camfw) ip netns exec "$ns_ap" dotnet "$work/bench/BridgeBench.dll" "$work/policy" "$ap_a" "$ap_b" "${camfw_args[@]}" >"$work/fwd.out" 2>"$work/fwd.err" & ;;
    camfw-xdp) ip netns exec "$ns_ap" dotnet "$work/bench/BridgeBench.dll" "$work/policy" "$ap_a" "$ap_b" --xdp "${camfw_args[@]}" >"$work/fwd.out" 2>"$work/fwd.err" & ;;
    pcapfwd) ip netns exec "$ns_ap" "${fwd_pin[@]}" "$work/pcapfwd" "$ap_a" "$ap_b" >"$work/fwd.out" 2>"$work/fwd.err" & ;;
  esac
  fwd_pid=$!
  for _ in $(seq 1 600); do grep -q ready "$work/fwd.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$work/fwd.out" || { echo "forwarder $1 did not start:" >&2; cat "$work/fwd.err" >&2; exit 1; }
}

# With --receive-off-sender: the camera-side port's receive work on CPUs 1.. (see the usage). Run after each
# forwarder's start, since attaching XDP creates a veth's NAPI instances.
sender_pin=()
others_mask=""
fwd_pin=()
others_list=""
if [ -n "$dp_cpu" ]; then
  cpus=$(nproc)
  [ "$off_sender" = 0 ] || { echo "run.sh: --data-plane-cpu and --receive-off-sender place the same work two ways; give one" >&2; exit 2; }
  [[ "$dp_cpu" =~ ^[0-9]+$ ]] && [ "$dp_cpu" -lt "$cpus" ] && [ "$cpus" -ge 2 ] \
    || { echo "run.sh: --data-plane-cpu needs a CPU number below $cpus, and at least 2 CPUs" >&2; exit 2; }
  others_list=$(seq 0 $((cpus - 1)) | grep -vx "$dp_cpu" | paste -sd, -)
  sender_pin=(taskset -c "$others_list")
  fwd_pin=(taskset -c "$dp_cpu")
  camfw_args+=(--cpus "$dp_cpu")
  echo "== data paths on CPU $dp_cpu; sender and receive work on CPUs $others_list" >&2
fi
if [ "$off_sender" = 1 ]; then
  cpus=$(nproc)
  [ "$cpus" -ge 2 ] || { echo "run.sh: --receive-off-sender needs at least 2 CPUs" >&2; exit 1; }
  sender_pin=(taskset -c 0)
  others_mask=$(printf '%x' $(( (1 << cpus) - 2 )))
fi
receive_off_sender() {
  local pid how
  if [ "$threaded_napi" = 1 ] && [ "$off_sender" = 0 ]; then
    if ip netns exec "$ns_ap" sh -c "echo 1 > /sys/class/net/$ap_a/threaded; echo 1 > /sys/class/net/$ap_b/threaded" 2>/dev/null; then
      if [ -n "$others_list" ]; then
        for pid in $(pgrep "^napi/($ap_a|$ap_b)" || true); do taskset -p -c "$others_list" "$pid" >/dev/null; done
        echo "  threaded NAPI on $ap_a and $ap_b, on CPUs $others_list" >&2
      else
        echo "  threaded NAPI on $ap_a and $ap_b" >&2
      fi
    fi
    return 0
  fi
  [ "$off_sender" = 1 ] || return 0
  if ip netns exec "$ns_ap" sh -c "echo 1 > /sys/class/net/$ap_a/threaded" 2>/dev/null; then
    ip netns exec "$ns_ap" sh -c "echo 1 > /sys/class/net/$ap_b/threaded" 2>/dev/null || true
    for pid in $(pgrep "^napi/($ap_a|$ap_b)" || true); do taskset -p "$others_mask" "$pid" >/dev/null; done
    how="threaded NAPI, threads $(pgrep "^napi/$ap_a" | tr '\n' ' ')on CPU mask $others_mask"
  else
    ip netns exec "$ns_ap" sh -c "echo $others_mask > /sys/class/net/$ap_a/queues/rx-0/rps_cpus"
    how="RPS to CPU mask $others_mask"
  fi
  echo "  $ap_a receives off the sender's CPU 0: $how" >&2
}

stop_forwarder() { # $1
  if [ "$1" = none ]; then
    return
  elif [ "$1" = kernel ]; then
    ip netns exec "$ns_ap" ip link delete br0
  else
    kill -TERM "$fwd_pid"; wait "$fwd_pid" || true; fwd_pid=""
    tail -1 "$work/fwd.out" >&2
  fi
}

# "run_time_ns run_cnt" summed over the loaded XDP programs named $1 (bpftool truncates names to 15 characters).
bpf_prog_stats() {
  bpftool prog show -j | /usr/bin/python3 -c '
import json, sys
progs = [p for p in json.load(sys.stdin) if p.get("type") == "xdp" and p.get("name") == sys.argv[1]]
print(sum(p.get("run_time_ns", 0) for p in progs), sum(p.get("run_cnt", 0) for p in progs))' "$1"
}

# Runs `trial` under a system-wide perf record (when --profile is on) and reports each XDP program's cost per run.
profiled_trial() { # $1 traffic, $2 forwarder, then trial's arguments
  local name="$1-$2" perf_pid="" result
  shift 2
  if [ -z "$profile_dir" ]; then trial "$@"; return; fi
  read -r flow_ns0 flow_n0 <<<"$(bpf_prog_stats flow_offload)"
  read -r pass_ns0 pass_n0 <<<"$(bpf_prog_stats xdp_pass)"
  perf record -a -g -F 999 -o "$profile_dir/$name.perf.data" -- sleep 600 >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.5 # perf's start-up, not the trial's
  result=$(trial "$@")
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  read -r flow_ns1 flow_n1 <<<"$(bpf_prog_stats flow_offload)"
  read -r pass_ns1 pass_n1 <<<"$(bpf_prog_stats xdp_pass)"
  perf report -i "$profile_dir/$name.perf.data" --no-children --sort sym --stdio --percent-limit 0.7 -g none \
    2>/dev/null | grep -v '^$' >"$profile_dir/$name.txt" || true
  awk -v f="$((flow_ns1 - flow_ns0))" -v fn="$((flow_n1 - flow_n0))" -v p="$((pass_ns1 - pass_ns0))" -v pn="$((pass_n1 - pass_n0))" \
    -v n="$name" 'BEGIN { printf "  %s: flow_offload ran %d times, %s ns per run; xdp_pass (far ends) ran %d times, %s ns per run\n",
      n, fn, (fn > 0 ? sprintf("%.0f", f / fn) : "-"), pn, (pn > 0 ? sprintf("%.0f", p / pn) : "-") }' >&2
  echo "$result"
}

# trial PCAP RATE -> "sent delivered achieved_pps machine_ticks" (RATE = top or a pps figure). machine_ticks: the whole
# machine's busy CPU from the start of the send until the receiver's count stops moving.
trial() {
  local pcap="$1" rate="$2" frames loops before after out sent pps m0 m1 last
  frames=5000 # gen_traffic.py writes 5 frames per camera
  loops=$(( (frames_per_trial + frames - 1) / frames ))
  before=$(rx_count)
  if [ "$rate" = top ]; then speed=(--topspeed); else speed=(--pps="$rate"); fi
  m0=$(machine_ticks)
  out=$(ip netns exec "$ns_tx" "${sender_pin[@]}" tcpreplay -i "$tx_if" "${speed[@]}" --loop="$loops" "$pcap" 2>&1)
  # Until the forwarder has drained its queues (at most 0.5 s), not a fixed sleep that would add idle time.
  after=$(rx_count); last=-1
  for _ in 1 2 3 4 5; do [ "$after" = "$last" ] && break; last=$after; sleep 0.1; after=$(rx_count); done
  m1=$(machine_ticks)
  sent=$(echo "$out" | sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' | head -1)
  pps=$(echo "$out" | sed -n 's/.*Rated: .*, *\([0-9.]*\) pps.*/\1/p' | head -1)
  echo "${sent:-0} $((after - before)) ${pps%.*} $((m1 - m0))"
}

results=()
start_losses=()
hz=$(getconf CLK_TCK)
for traffic in video small; do
  pcap="$work/$traffic.pcap"
  for fwd in $forwarders; do
    start_forwarder "$fwd"
    receive_off_sender
    # The first top-speed trial right after the start (cold code, cold rings), reported as such; then the measured,
    # warm one.
    read -r first_sent first_got _ _ <<<"$(trial "$pcap" "$first_rate")"
    cpu0=$(cpu_ticks)
    read -r sent got top mticks <<<"$(profiled_trial "$traffic" "$fwd" "$pcap" top)"
    cpu1=$(cpu_ticks)
    # Whole-machine CPU per frame: per delivered frame, or per sent frame for the baseline (nothing is delivered).
    per=$got; [ "$fwd" = none ] && per=$sent
    if [ "$per" -gt 0 ]; then
      mach_us=$(awk -v t="$mticks" -v hz="$hz" -v n="$per" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    else mach_us="-"; fi
    first_lost=$((first_sent - first_got)); [ "$fwd" = none ] && first_lost="-"
    if [ "$fwd" = none ]; then
      echo "$traffic/none (baseline): sent $sent at ${top} pps, machine ${mach_us} us CPU per frame sent" >&2
      stop_forwarder "$fwd"
      results+=("$traffic $fwd $top $sent $got - - $mach_us -")
      continue
    fi
    # CPU microseconds per delivered frame: what the forwarder itself spent, independent of how fast the sender
    # managed to send on a busy machine (the kernel bridge works in softirq context and has no process to measure).
    if [ "$fwd" = kernel ] || [ "$got" -eq 0 ]; then cpu_us="-"; else
      cpu_us=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$got" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }'); fi
    echo "$traffic/$fwd: first trial lost $first_lost of $first_sent; top speed sent $sent at ${top} pps, delivered $got, ${cpu_us} us forwarder CPU, ${mach_us} us machine CPU per frame" >&2
    if [ "$got" -ge "$sent" ]; then
      best=$top
    else
      lo=0; hi=$top
      for _ in $(seq 1 "$steps"); do
        mid=$(( (lo + hi) / 2 ))
        [ "$mid" -lt 1000 ] && break
        read -r s g _ _ <<<"$(trial "$pcap" "$mid")"
        if [ "$g" -ge "$s" ]; then lo=$mid; else hi=$mid; fi
        echo "  $mid pps: sent $s delivered $g" >&2
      done
      best=$lo
    fi
    stop_forwarder "$fwd"
    results+=("$traffic $fwd $top $sent $got $best $cpu_us $mach_us $first_lost")
    if [ "$starts" -gt 0 ]; then
      losses=()
      for _ in $(seq 1 "$starts"); do
        start_forwarder "$fwd"
        receive_off_sender
        read -r s g p _ <<<"$(trial "$pcap" "$first_rate")"
        stop_forwarder "$fwd"
        losses+=("$((s - g))@${p}pps")
      done
      echo "$traffic/$fwd: first trial lost after each of $starts more starts: ${losses[*]}" >&2
      start_losses+=("$traffic/$fwd: ${losses[*]}")
    fi
  done
done

printf '\n%-6s %-9s %10s %10s %10s %12s %10s %12s %12s %10s\n' traffic forwarder top_pps sent delivered lossfree_pps fwd_us/fr machine_us/fr fwd_cost_us first_lost
for r in "${results[@]}"; do
  # shellcheck disable=SC2086
  set -- $r
  base=$(printf '%s\n' "${results[@]}" | awk -v t="$1" '$1==t && $2=="none" {print $8}')
  cost=$(awk -v m="$8" -v b="$base" 'BEGIN { if (m == "-" || b == "-") print "-"; else printf "%.2f", m - b }')
  printf '%-6s %-9s %10s %10s %10s %12s %10s %12s %12s %10s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$cost" "$9"
done
echo
for traffic in video small; do
  base=$(printf '%s\n' "${results[@]}" | awk -v t="$traffic" '$1==t && $2=="none" {print $8}')
  for fwd in camfw camfw-xdp; do
    printf '%s\n' "${results[@]}" | awk -v t="$traffic" -v f="$fwd" -v b="$base" '
      $1==t { m[$2] = $8 - b }
      END { printf "%s/%s: forwarding cost (machine CPU per frame minus baseline) %.2f us; / pcapfwd = %.2f; / kernel bridge = %.2f\n",
            t, f, m[f], (m["pcapfwd"] > 0 ? m[f] / m["pcapfwd"] : 0), (m["kernel"] > 0 ? m[f] / m["kernel"] : 0) }'
  done
done
if [ "${#start_losses[@]}" -gt 0 ]; then
  echo "first trial lost (frames) at the sender's rate, after each further start:"
  printf '  %s\n' "${start_losses[@]}"
fi
echo "== load after the run: $(uptime)" >&2
for traffic in video small; do
  c=$(printf '%s\n' "${results[@]}" | awk -v t="$traffic" '$1==t && $2=="camfw" {print $6}')
  p=$(printf '%s\n' "${results[@]}" | awk -v t="$traffic" '$1==t && $2=="pcapfwd" {print $6}')
  cc=$(printf '%s\n' "${results[@]}" | awk -v t="$traffic" '$1==t && $2=="camfw" {print $7}')
  pc=$(printf '%s\n' "${results[@]}" | awk -v t="$traffic" '$1==t && $2=="pcapfwd" {print $7}')
  awk -v t="$traffic" -v c="$c" -v p="$p" -v cc="$cc" -v pc="$pc" 'BEGIN {
    printf "%s: camfw / pcapfwd loss-free rate ratio = %s; CPU per frame ratio (pcapfwd / camfw, >1 means camfw is cheaper) = %s\n",
      t, (p > 0 ? sprintf("%.2f", c / p) : "n/a"), (cc > 0 ? sprintf("%.2f", pc / cc) : "n/a") }'
done
