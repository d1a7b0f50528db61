#!/usr/bin/env bash
# Measures camfw's resident memory on veths: a 100-camera policy, one bridge pair, the API on loopback.
# Usage: benchmarks/memory-run.sh CAMFW_BIN CAMERAS RELOADS [extra env assignments...]
# Several may run at once (own namespace, own API socket).
set -euo pipefail
bin=$(readlink -f "$1"); cams=$2; reloads=$3; shift 3
work=$(mktemp -d /tmp/camfw-mem-XXXX)
ns=cfmem$(od -An -N3 -tx1 /dev/urandom | tr -d " \n")
ip netns add $ns
# kill fails when camfw has already exited (a failed start): that must not stop the clean-up under set -e.
cleanup() { if [ -n "${pid:-}" ]; then kill $pid 2>/dev/null || true; fi; sleep 1; ip netns del $ns 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip -n $ns link set lo up
ip -n $ns link add mc type veth peer name mcp
ip -n $ns link add mu type veth peer name mup
for i in mc mcp mu mup; do ip -n $ns link set $i up; done
cp -r "$(dirname "$0")/../policies" "$work/policies"
{
  echo "cameras:"
  for i in $(seq 1 $cams); do
    printf '  bulk-%03d:\n    mac: 02:00:00:00:%02x:%02x\n    ip: 192.0.2.%d\n    profiles: [onvif-generic]\n' $i $((16 + i / 256)) $((i % 256)) $((100 + i % 150))
  done
} > "$work/policies/cameras/bulk.yaml"
# keep addresses unique: fall back to 10.x when more than 150
if [ "$cams" -gt 150 ]; then echo "too many cameras for this script" >&2; exit 1; fi
rm -f "$work/policies/cameras/north.yaml" "$work/policies/cameras/south.yaml"
mkdir -p "$work/state"
echo "memrun-token-0123456789abcdef0123456789" > "$work/token"; chmod 600 "$work/token"
cat > "$work/camfw.json" <<JSON
{ "Bridge": { "Pairs": [ { "Name": "mem", "CameraInterface": "mc", "UplinkInterface": "mu" } ] },
  "Policy": { "Directory": "$work/policies", "StateDirectory": "$work/state", "Watch": true },
  "Management": { "Url": "http://127.0.0.1:18099", "TokenFile": "$work/token", "UnixSocket": "$work/api.sock" } }
JSON
env "$@" ip netns exec $ns "$bin" run --config "$work/camfw.json" > "$work/log" 2>&1 &
pid=$!
for i in $(seq 1 120); do
  ip netns exec $ns curl -sf http://127.0.0.1:18099/api/v1/health >/dev/null 2>&1 && break; sleep 1
done
ip netns exec $ns curl -s http://127.0.0.1:18099/api/v1/health | head -c 300 || { cat "$work/log"; exit 1; }; echo
rss() { awk '/VmRSS|RssAnon|RssFile|RssShmem/ {printf "%s %d MiB  ", $1, $2/1024}' /proc/$pid/status; echo; }
sleep 20; echo -n "start+20s: "; rss
for r in $(seq 1 $reloads); do
  echo "# reload $r" >> "$work/policies/cameras/bulk.yaml"
  sleep 1.2
done
sleep 20
echo -n "after $reloads edits: "; rss
ip netns exec $ns curl -s -H "Authorization: Bearer $(cat $work/token)" http://127.0.0.1:18099/metrics | grep -E "^camfw_policy_(reloads|version|cameras)|flow_table_capacity" || true
grep -E "^[^ ]+ .*Private|Rss" /proc/$pid/smaps_rollup || true

awk '/^[0-9a-f]+-[0-9a-f]+ /{name=$6; if(name=="")name="[anon]"} /^Rss:/{rss[name]+=$2} END{for(n in rss) if(rss[n]>2048) printf "%8d kB %s\n", rss[n], n}' /proc/$pid/smaps | sort -rn | head -15

# The runtime's own view (GC heap by generation, committed, JIT-compiled IL, assemblies, threads) when dotnet-counters
# is at hand (CAMFW_COUNTERS=path or on PATH; `dotnet tool install dotnet-counters --tool-path DIR`). Read last: an
# EventPipe session adds its own buffers to the process. A NativeAOT build has no diagnostics server: nothing printed.
counters=${CAMFW_COUNTERS:-$(command -v dotnet-counters || true)}
if [ -n "$counters" ]; then
  timeout 60 "$counters" collect -p $pid --refresh-interval 2 --duration 00:00:00:05 --format csv -o "$work/counters.csv" \
    --counters 'System.Runtime[dotnet.gc.last_collection.heap.size,dotnet.gc.last_collection.memory.committed_size,dotnet.gc.heap.total_allocated,dotnet.jit.compiled_il.size,dotnet.jit.compiled_methods,dotnet.assembly.count,dotnet.thread_pool.thread.count,dotnet.process.memory.working_set]' \
    >/dev/null 2>&1 || true
  if [ -s "$work/counters.csv" ]; then
    awk -F, 'NR > 1 { v[$3] = $5 } END { for (n in v) printf "%14.0f %s\n", v[n], n }' "$work/counters.csv" | sort -k2
  fi
fi
