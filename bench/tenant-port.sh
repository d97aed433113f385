#!/usr/bin/env bash
# Tenant → port benchmark (SPEC §9 "tenant → port"): `meta-appliance run` with one port (fwd-out, unclaimed frames
# dropped) and one l2 pair that ADOPTS the harness's generator veth fwd-in/g0 (config primaryInterface; the tenant is
# g0 in namespace pfgen). So the generator's frames are the tenant's: they enter the pair's peer side (tenant → world),
# run its peer chain (the counter example program, which returns NEXT, so the side's policy passes the frame on),
# pass the L2 tenant checks (the source MAC is g0's own, which the tenant may send from; the IPv4 source 198.18.0.1
# is neither the board's nor another tenant's, so the address guard lets it through) and leave by the uplink port
# fwd-out to s0 in pfsink, where the harness's sink counts them. The reverse of bench/meta-pair.sh (port → tenant).
# Measured beside the anchors (Linux bridge, kernel XDP redirect, afxdp-c) with the shared harness
# ../shared/bench/run.sh, unchanged.
# While a run lasts, `meta-appliance stats` and `maps dump tenant_stats` are written every 2 s to
# RESULTS/pair-stats-*.txt: proof that the frames went through the pair's peer side and its program (and that its
# drops, invalidSource among them, stay 0), with the appliance's VmRSS and VmHWM (/proc/PID/status) while it forwards.
# Then the same run with an empty peer chain beside afxdp-c only, at 64 B (TENANT_PORT_NO_PROGRAM=0 skips it):
# RESULTS/no-program/ has its table, and the last line sets the tenant → port rate at 64 B with and without the
# program beside afxdp-c's from the same rounds. It exits non-zero when a snapshot shows no frame into the peer side or
# any drop there (a tenant check refusing the generator's frames would otherwise be measured as a low rate).
#
# usage: bench/tenant-port.sh [extra run.sh options, e.g. --runs 1 --duration 5 --sizes 64]
# env:   META_APPLIANCE_OUT (default ./out): where linux-x64/meta-appliance was published and programs/ were built
#        BENCH_OUT (default out/bench/tenant-port-<timestamp>): results directory
set -euo pipefail
BENCH_NAME=tenant-port
# shellcheck source=bench/harness-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness-env.sh"
OBJECTS="$OUTDIR/programs"
[ -f "$OBJECTS/counter.bpf.o" ] || { echo "tenant-port.sh: $OBJECTS/counter.bpf.o not found: run ./build.sh deps first" >&2; exit 1; }

SOCK="$RESULTS/control.sock"
# config FILE PEER-CHAIN: the pair adopts fwd-in (the generator's veth peer g0 in pfgen is the tenant), uplink fwd-out.
config() {
	cat >"$1" <<JSON
{
  "board": "bench",
  "controlSocket": "$SOCK",
  "ports": [{ "name": "fwd-out", "unclaimed": "drop" }],
  "pairs": [
    {
      "name": "bench-pair",
      "mode": "l2",
      "uplink": "fwd-out",
      "tenant": { "netns": "pfgen", "interface": "g0" },
      "primaryInterface": "fwd-in",
      "primary": { "policy": "drop" },
      "peer": { "policy": "pass", "chain": $2 }
    }
  ],
  "programs": [{ "name": "count", "object": "counter.bpf.o", "section": "tc" }]
}
JSON
	"$BIN" validate "$1" --objects "$OBJECTS" >/dev/null
}
CFG="$RESULTS/tenant-port.json"
config "$CFG" '[{ "program": "count" }]'

# The appliance with stats snapshots every 2 s (run_cmd, harness-env.sh). It logs "runtime: forwarding ports=N
# pairs=N" once the worker runs: the ready line.
CMD=$(run_cmd "$CFG" "$RESULTS" tenant_stats)

"$HARNESS" --sizes 64,1500 --fwd-cpus 1 \
	--cmd "$CMD" --cmd-ready 'runtime: forwarding ports=' \
	--label "meta-appliance run @ $COMMIT (tenant -> port: adopted l2 pair on the generator's veth, counter program on the peer side, tenant checks, AF_XDP copy mode, 1 core)" \
	--out "$RESULTS" "$@"

if [ "${TENANT_PORT_NO_PROGRAM:-1}" = 1 ]; then
	mkdir -p "$RESULTS/no-program"
	CFG_PLAIN="$RESULTS/no-program/tenant-port-plain.json"
	config "$CFG_PLAIN" '[]'
	CMD_PLAIN=$(run_cmd "$CFG_PLAIN" "$RESULTS/no-program" "")
	"$HARNESS" --sizes 64 --fwd-cpus 1 --modes afxdp-c,custom \
		--cmd "$CMD_PLAIN" --cmd-ready 'runtime: forwarding ports=' \
		--label "meta-appliance run @ $COMMIT (as the first table, no program on the peer side)" \
		--out "$RESULTS/no-program" "$@"
fi

echo
echo "tenant-port.sh: table above ('custom' = meta-appliance run, tenant -> pair peer side -> port); full results in $RESULTS"
shopt -s nullglob
stats=("$RESULTS"/pair-stats-*.txt)
[ ${#stats[@]} -gt 0 ] || { echo "tenant-port.sh: no pair statistics were written: did the appliance run?" >&2; exit 1; }
for f in "${stats[@]}"; do
	echo "== $(basename "$f") (last snapshot of one run)"
	cat "$f"
done
# Every snapshot (both tables) must show frames in at the pair's peer side and no drop there by any reason (policy,
# invalidSource ...): a frame the tenant checks refused would make the table measure refusals, not forwarding.
bad=0
for f in "${stats[@]}" "$RESULTS"/no-program/pair-stats-*.txt; do
	# the "PAIR SIDE IN ... DROPS BY REASON" row of the peer side: IN and the reasons ("-" when none)
	took='' drops=''
	read -r took drops < <(awk '$1 == "bench-pair" && $2 == "peer" { d = $8; for (i = 9; i <= NF; i++) d = d " " $i; print $3, d }' "$f") || true
	if [ "${took:-0}" = 0 ] || [ "$drops" != - ]; then
		echo "tenant-port.sh: $(basename "$f"): the pair's peer side took ${took:-no} frames and dropped ${drops:-?}: expected the generator's frames in and no drops" >&2
		bad=1
	fi
done
with=$(versus_afxdp 64 "$RESULTS/runs.tsv")
without=$(versus_afxdp 64 "$RESULTS/no-program/runs.tsv")
if [ -n "$with" ]; then
	echo "tenant-port.sh: tenant -> port at 64 B: counter program on the peer side $with${without:+; no program $without}"
fi
exit $bad
