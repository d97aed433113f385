#!/usr/bin/env bash
# Idle cost and wake-up latency (issue #14): `meta-appliance run` with one port and one l2 pair in namespaces made
# here. Measures (1) the appliance's CPU use with no traffic (utime+stime from /proc/PID/stat over LAT_IDLE_S
# seconds, % of one core), (2) ping round trips tenant -> outside through the pair at idle (one ping every
# LAT_INTERVAL s, so every ping finds the workers asleep: the wake-up path), (3) the same pings while iperf3 pushes
# LAT_LOAD (UDP, outside -> tenant) through the same pair. Prints p50/p99/max of each and writes RESULTS/latency.txt.
#
# usage: bench/latency.sh
# env:   META_APPLIANCE_OUT (default ./out), BENCH_OUT (default out/bench/latency-<timestamp>),
#        LAT_IDLE_S (10), LAT_PINGS (200), LAT_INTERVAL (0.05), LAT_LOAD (200M), LAT_CPUS (taskset list for the appliance, default: all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTDIR="${META_APPLIANCE_OUT:-$ROOT/out}"
BIN="$OUTDIR/linux-x64/meta-appliance"
[ -x "$BIN" ] || { echo "latency.sh: $BIN not found: run ./build.sh publish first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "latency.sh: must run as root (namespaces, XDP, AF_XDP)" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "latency.sh: iperf3 is needed for the loaded measurement (apt-get install iperf3)" >&2; exit 1; }
IDLE_S="${LAT_IDLE_S:-10}" PINGS="${LAT_PINGS:-200}" INTERVAL="${LAT_INTERVAL:-0.05}" LOAD="${LAT_LOAD:-200M}"
RESULTS="${BENCH_OUT:-$ROOT/out/bench/latency-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

ID=$$
# The appliance runs in this namespace (as on a board; it creates the tenant's namespace, which must be visible
# here, so not under `ip netns exec`); its port is a veth whose other end is in the outside namespace.
OUT_NS="lat-out-$ID" TEN_NS="lat-ten-$ID" PORT="lat$ID"
APP=""
cleanup() {
	[ -n "$APP" ] && kill "$APP" 2>/dev/null && wait "$APP" 2>/dev/null || true
	ip netns del "$OUT_NS" 2>/dev/null || true
	ip link del "$PORT" 2>/dev/null || true
	ip netns del "$TEN_NS" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$OUT_NS"
ip link add "$PORT" type veth peer name o0 netns "$OUT_NS"
sysctl -qw "net.ipv6.conf.$PORT.disable_ipv6=1"
ip link set "$PORT" up
ip -n "$OUT_NS" link set lo up
ip -n "$OUT_NS" link set o0 up
ip netns exec "$OUT_NS" ethtool -K o0 tx off >/dev/null
ip -n "$OUT_NS" addr add 10.70.0.1/24 dev o0

cat >"$RESULTS/latency.json" <<JSON
{
  "board": "bench",
  "controlSocket": "$RESULTS/control.sock",
  "ports": [{ "name": "$PORT", "unclaimed": "kernel" }],
  "pairs": [{
    "name": "lp$ID", "mode": "l2", "uplink": "$PORT",
    "tenant": { "netns": "$TEN_NS", "interface": "eth0", "mac": "02:00:00:00:70:0a", "addresses": ["10.70.0.10/24"] },
    "primary": { "policy": "pass" }, "peer": { "policy": "pass" }
  }]
}
JSON
PIN=()
[ -n "${LAT_CPUS:-}" ] && PIN=(taskset -c "$LAT_CPUS")
"${PIN[@]}" "$BIN" run --config "$RESULTS/latency.json" --leds none >"$RESULTS/appliance.log" 2>&1 &
APP=$!
for _ in $(seq 100); do grep -q "runtime: forwarding" "$RESULTS/appliance.log" 2>/dev/null && break; sleep 0.2; done
grep -q "runtime: forwarding" "$RESULTS/appliance.log" || { echo "latency.sh: the appliance did not start:" >&2; cat "$RESULTS/appliance.log" >&2; exit 1; }
ip netns exec "$TEN_NS" ping -c 3 -i 0.2 -W 2 10.70.0.1 >/dev/null || { echo "latency.sh: no ping through the pair" >&2; exit 1; }
sleep 1

cpu_ticks() { awk '{ split($0, a, ") "); split(a[2], f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
T0=$(cpu_ticks "$APP"); S0=$(date +%s.%N)
sleep "$IDLE_S"
T1=$(cpu_ticks "$APP"); S1=$(date +%s.%N)
IDLE_PCT=$(awk -v t="$((T1 - T0))" -v hz="$HZ" -v s0="$S0" -v s1="$S1" 'BEGIN { printf "%.2f", 100 * t / hz / (s1 - s0) }')

# p50/p99/max of ping's time= values (ms).
percentiles() {
	grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "no replies"; exit }
		i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
		printf "p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%d replies)", v[i50], v[i99], v[NR], NR }'
}
pings() { ip netns exec "$TEN_NS" ping -c "$PINGS" -i "$INTERVAL" -W 1 10.70.0.1 || true; }

IDLE_PING=$(pings | percentiles)

ip netns exec "$TEN_NS" iperf3 -s -1 -D -B 10.70.0.10 >/dev/null
sleep 0.5
ip netns exec "$OUT_NS" iperf3 -c 10.70.0.10 -u -b "$LOAD" -l 1200 -t 3600 >"$RESULTS/iperf3.log" 2>&1 &
LOADER=$!
sleep 1
T2=$(cpu_ticks "$APP"); S2=$(date +%s.%N)
LOAD_PING=$(pings | percentiles)
T3=$(cpu_ticks "$APP"); S3=$(date +%s.%N)
kill "$LOADER" 2>/dev/null || true
wait "$LOADER" 2>/dev/null || true
LOAD_PCT=$(awk -v t="$((T3 - T2))" -v hz="$HZ" -v s0="$S2" -v s1="$S3" 'BEGIN { printf "%.1f", 100 * t / hz / (s1 - s0) }')

{
	echo "meta-appliance run @ $COMMIT: port -> l2 pair (policies pass), $(nproc) CPUs${LAT_CPUS:+, appliance on CPUs $LAT_CPUS}"
	echo "idle CPU:            $IDLE_PCT % of one core over ${IDLE_S} s"
	echo "ping at idle:        $IDLE_PING   ($PINGS pings every ${INTERVAL} s, tenant -> outside)"
	echo "ping under load:     $LOAD_PING   (iperf3 UDP $LOAD outside -> tenant; appliance CPU $LOAD_PCT % of one core)"
} | tee "$RESULTS/latency.txt"
