#!/usr/bin/env bash
# A MetaAppliance demo board made of network namespaces, on this machine (root needed):
#
#   [mappdemo-a] eth0 ==pair demo-a==> appliance --mdport0==wan0--> [mappdemo-out] (the "world")
#   [mappdemo-b] eth0 ==pair demo-b==> appliance --mdport1==wan1--> [mappdemo-out]
#
# Two "ports" (veths whose outer ends are in mappdemo-out), two tenants (namespaces the appliance creates).
# demo-a's peer side runs counter (observes, NEXT) then allow_port (only TCP/UDP port 5001 may leave; ARP/ICMP
# pass), its primary side counter alone (NEXT from the last program = PASS); demo-b
# has no programs (policy pass). Starts `meta-appliance run`, sends traffic (ping both ways, a management ping to
# the board's own port address, TCP to an allowed and a blocked port), shows status and stats, then keeps
# showing stats until Ctrl-C (or exits at once with --once). Everything is torn down on exit, Ctrl-C included.
#
# Env: META_APPLIANCE_BIN (default out/linux-x64/meta-appliance), META_APPLIANCE_OBJECTS (default out/programs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${META_APPLIANCE_BIN:-$ROOT/out/linux-x64/meta-appliance}
OBJ=${META_APPLIANCE_OBJECTS:-$ROOT/out/programs}
ONCE=0
[[ "${1:-}" == "--once" ]] && ONCE=1
[[ $EUID -eq 0 ]] || { echo "demo: needs root (namespaces, veth, XDP); run: sudo $0" >&2; exit 1; }
[[ -x "$BIN" ]] || { echo "demo: $BIN not found; build it with ./build.sh publish" >&2; exit 1; }
[[ -f "$OBJ/allow_port.bpf.o" && -f "$OBJ/counter.bpf.o" ]] || make -s -C "$ROOT/programs" OUT="$OBJ"

OUTNS=mappdemo-out
WORK=$(mktemp -d /tmp/mappdemo.XXXXXX)
SOCK=$WORK/control.sock
APP_PID=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$APP_PID" ]] && kill -0 "$APP_PID" 2>/dev/null; then
    kill -TERM "$APP_PID"
    wait "$APP_PID" 2>/dev/null || true
  fi
  ip link del mdport0 2>/dev/null || true
  ip link del mdport1 2>/dev/null || true
  ip netns del "$OUTNS" 2>/dev/null || true
  rm -rf "$WORK"
  echo "demo: torn down"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_out() { ip netns exec "$OUTNS" "$@"; }

say "building the demo board"
ip netns add "$OUTNS"
in_out ip link set lo up
for i in 0 1; do
  ip link add "mdport$i" type veth peer name "wan$i" netns "$OUTNS"
  ip link set "mdport$i" up
  in_out ip link set "wan$i" up
  in_out ethtool -K "wan$i" tx off >/dev/null  # AF_XDP copies raw bytes: no checksum offload on the outside
done
in_out ip addr add 10.77.0.1/24 dev wan0
in_out ip addr add 10.78.0.1/24 dev wan1
ip addr add 10.77.0.254/24 dev mdport0        # the board's own management address on port mdport0

cat > "$WORK/config.json" <<JSON
{
  "board": "demo-namespaces",
  "controlSocket": "$SOCK",
  "ports": [
    { "name": "mdport0", "unclaimed": "kernel" },
    { "name": "mdport1", "unclaimed": "drop" }
  ],
  "pairs": [
    {
      "name": "demo-a", "mode": "l2", "uplink": "mdport0",
      "tenant": { "netns": "mappdemo-a", "interface": "eth0", "mac": "02:00:00:00:d0:0a", "addresses": ["10.77.0.10/24"] },
      "primary": { "chain": [{ "program": "count" }] },
      "peer": { "policy": "drop", "chain": [{ "program": "count" }, { "program": "allow-5001" }] }
    },
    {
      "name": "demo-b", "mode": "l2", "uplink": "mdport1",
      "tenant": { "netns": "mappdemo-b", "interface": "eth0", "mac": "02:00:00:00:d0:0b", "addresses": ["10.78.0.10/24"] }
    }
  ],
  "programs": [
    { "name": "allow-5001", "object": "$OBJ/allow_port.bpf.o", "section": "netkit/peer",
      "maps": { "allowed_ports": [{ "key": 5001, "value": 0 }] } },
    { "name": "count", "object": "$OBJ/counter.bpf.o", "section": "tc" }
  ]
}
JSON

say "starting: $BIN run --config $WORK/config.json"
"$BIN" run --config "$WORK/config.json" > "$WORK/stdout" &
APP_PID=$!
for _ in $(seq 1 200); do
  grep -q "forwarding" "$WORK/stdout" 2>/dev/null && break
  kill -0 "$APP_PID" 2>/dev/null || { echo "demo: the appliance exited" >&2; exit 1; }
  sleep 0.1
done
cat "$WORK/stdout"
ip netns exec mappdemo-a ip route add default via 10.77.0.1
ip netns exec mappdemo-b ip route add default via 10.78.0.1

say "tenant a -> world: ping 10.77.0.1"
ip netns exec mappdemo-a ping -c 3 -i 0.2 -W 2 10.77.0.1
say "world -> tenant b: ping 10.78.0.10"
in_out ping -c 3 -i 0.2 -W 2 10.78.0.10
say "management: world -> the board's own address 10.77.0.254 (kernel path, untouched)"
in_out ping -c 2 -i 0.2 -W 2 10.77.0.254
say "tenant a -> world TCP port 5001 (allowed by allow-5001)"
in_out sh -c 'nc -l -w 5 5001 > /dev/null' & sleep 0.3
if echo "hello through the appliance" | ip netns exec mappdemo-a nc -N -w 3 10.77.0.1 5001; then echo "connected: allowed"; fi
wait $! 2>/dev/null || true
say "tenant a -> world TCP port 5002 (not on the allow-list: dropped by the peer chain)"
if ip netns exec mappdemo-a nc -z -w 2 10.77.0.1 5002; then echo "unexpected: connected"; else echo "blocked, as configured"; fi

say "meta-appliance status"
"$BIN" status --socket "$SOCK"
say "meta-appliance stats"
"$BIN" stats --socket "$SOCK"
say "meta-appliance maps dump allowed_ports"
"$BIN" maps dump allowed_ports --socket "$SOCK"

[[ $ONCE -eq 1 ]] && exit 0
say "live stats every 2 s (Ctrl-C tears everything down)"
while kill -0 "$APP_PID" 2>/dev/null; do
  sleep 2
  clear 2>/dev/null || true
  "$BIN" stats --socket "$SOCK" || true
done
