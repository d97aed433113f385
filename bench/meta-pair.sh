#!/usr/bin/env bash
# Meta-pair benchmark (SPEC §9 "port → pair with a small program → tenant"): `meta-appliance run` with one port
# (fwd-in, unclaimed frames dropped) and one l2 pair that ADOPTS the harness's veth fwd-out/s0 (config
# primaryInterface; the tenant is s0 in namespace pfsink, where the sink counts frames sent to s0's MAC). The
# harness sends to s0's MAC, so every frame is classified to the pair and runs its primary chain (the counter
# example program, which returns NEXT, so the side's policy passes the frame into the tenant). Measured beside the
# anchors (Linux bridge, kernel XDP redirect, afxdp-c) with the shared harness ../shared/bench/run.sh, unchanged.
# While a run lasts, `meta-appliance stats` and `maps dump tenant_stats` are written every 2 s to
# RESULTS/pair-stats-*.txt: proof that the pair program ran on the measured frames, with the appliance's VmRSS and
# VmHWM (/proc/PID/status) while it forwards.
# Then the same run again with `meta-appliance capture bench-pair --side primary --out /dev/null` beside it (every
# frame copied into the capture ring and written out): the capture's cost, in the same bench run (META_PAIR_CAPTURE=0
# skips it); RESULTS/with-capture/capture-*.txt has what the capture wrote and lost, and a last line per frame size
# gives the capture's cost (median delivered Mpps of the appliance without and with the capture).
# Then the L3 path (META_PAIR_L3=0 skips it): the same adopted veth as an l3 pair with 198.19.0.1/16, routing 198.19.0.0/16 (the
# harness's destination), the port given s0's MAC as its own (the generator sends to s0's MAC, so every frame is "to
# the port's MAC, destination in an L3 prefix": XDP LPM → AF_XDP → longest-prefix match → TTL and Ethernet rewrite →
# the counter program → the tenant); RESULTS/l3/ has its table and a last line sets its 64 B figure beside the l2 one.
# The first table runs the pair's program as native code from the JIT (run's default; the ENGINE column of each
# stats snapshot says so). Then the same l2 run with `run --no-jit` (the interpreter) beside
# afxdp-c only, at 64 B (META_PAIR_NO_JIT=0 skips it); RESULTS/no-jit/ has its table and a last line sets the JIT's
# and the interpreter's delivered Mpps at 64 B beside afxdp-c's from the same rounds.
#
# usage: bench/meta-pair.sh [extra run.sh options, e.g. --runs 1 --duration 5 --sizes 64]
# env:   META_APPLIANCE_OUT (default ./out): where linux-x64/meta-appliance was published and programs/ were built
#        BENCH_OUT (default out/bench/meta-pair-<timestamp>): results directory
set -euo pipefail
BENCH_NAME=meta-pair
# shellcheck source=bench/harness-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness-env.sh"
OBJECTS="$OUTDIR/programs"
[ -f "$OBJECTS/counter.bpf.o" ] || { echo "meta-pair.sh: $OBJECTS/counter.bpf.o not found: run ./build.sh deps first" >&2; exit 1; }

CFG="$RESULTS/meta-pair.json"
SOCK="$RESULTS/control.sock"
cat >"$CFG" <<JSON
{
  "board": "bench",
  "controlSocket": "$SOCK",
  "ports": [{ "name": "fwd-in", "unclaimed": "drop" }],
  "pairs": [
    {
      "name": "bench-pair",
      "mode": "l2",
      "uplink": "fwd-in",
      "tenant": { "netns": "pfsink", "interface": "s0" },
      "primaryInterface": "fwd-out",
      "primary": { "policy": "pass", "chain": [{ "program": "count" }] },
      "peer": { "policy": "drop" }
    }
  ],
  "programs": [{ "name": "count", "object": "counter.bpf.o", "section": "tc" }]
}
JSON
"$BIN" validate "$CFG" --objects "$OBJECTS" >/dev/null

# The appliance with stats snapshots every 2 s (run_cmd, harness-env.sh). It logs "runtime: forwarding ports=N
# pairs=N" once the worker runs: the ready line.
CMD=$(run_cmd "$CFG" "$RESULTS" tenant_stats)

"$HARNESS" --sizes 64,1500 --fwd-cpus 1 \
	--cmd "$CMD" --cmd-ready 'runtime: forwarding ports=' \
	--label "meta-appliance run @ $COMMIT (port -> adopted l2 pair, counter program on the primary side, AF_XDP copy mode, 1 core)" \
	--out "$RESULTS" "$@"

if [ "${META_PAIR_NO_JIT:-1}" = 1 ]; then
	mkdir -p "$RESULTS/no-jit"
	CMD_NO_JIT=$(run_cmd "$CFG" "$RESULTS/no-jit" "" --no-jit)
	"$HARNESS" --sizes 64 --fwd-cpus 1 --modes afxdp-c,custom \
		--cmd "$CMD_NO_JIT" --cmd-ready 'runtime: forwarding ports=' \
		--label "meta-appliance run --no-jit @ $COMMIT (as the first table, the counter program in the interpreter)" \
		--out "$RESULTS/no-jit" "$@"
	jit=$(versus_afxdp 64 "$RESULTS/runs.tsv"); interp=$(versus_afxdp 64 "$RESULTS/no-jit/runs.tsv")
	if [ -n "$jit" ] && [ -n "$interp" ]; then
		echo "meta-pair.sh: at 64 B: JIT $jit; --no-jit $interp"
	fi
fi

if [ "${META_PAIR_CAPTURE:-1}" = 1 ]; then
	mkdir -p "$RESULTS/with-capture"
	# Ready only once the capture runs: the appliance answers, the capture says "capturing on", then the marker line.
	CMD_CAPTURE="$BIN run --config $CFG --objects $OBJECTS --leds none & A=\$!;
 until $BIN status --socket $SOCK >/dev/null 2>&1; do kill -0 \$A 2>/dev/null || exit 1; sleep 0.2; done;
 $BIN capture bench-pair --side primary --out /dev/null --socket $SOCK 2>$RESULTS/with-capture/capture-\$A.txt & C=\$!;
 until grep -q 'capturing on' $RESULTS/with-capture/capture-\$A.txt 2>/dev/null; do kill -0 \$C 2>/dev/null || exit 1; sleep 0.1; done;
 echo 'bench: capture running beside the datapath';
 wait \$A; kill -INT \$C 2>/dev/null; wait \$C"
	"$HARNESS" --sizes 64,1500 --fwd-cpus 1 \
		--cmd "$CMD_CAPTURE" --cmd-ready 'bench: capture running beside the datapath' \
		--label "meta-appliance run @ $COMMIT (as above, with a capture of the pair's primary side running beside it)" \
		--out "$RESULTS/with-capture" "$@"
	echo
	echo "meta-pair.sh: the second table is the same run with a capture beside it (capture bench-pair --side primary --out /dev/null)"
	cat "$RESULTS"/with-capture/capture-*.txt 2>/dev/null || true
	# Medians of the appliance's ('custom') delivered rate per frame size, without and with the capture.
	for z in $(awk -F'\t' 'FNR > 1 && $1 == "custom" && !seen[$2]++ { print $2 }' "$RESULTS/runs.tsv"); do
		without=$(median_pps custom "$z" "$RESULTS/runs.tsv"); with=$(median_pps custom "$z" "$RESULTS/with-capture/runs.tsv")
		if [ -n "$without" ] && [ -n "$with" ]; then
			awk -v z="$z" -v a="$without" -v b="$with" 'BEGIN {
				printf "meta-pair.sh: capture cost at %s B: %.3f Mpps without, %.3f Mpps with a capture running (%+.1f%%)\n", z, a / 1e6, b / 1e6, (a > 0 ? 100 * (b - a) / a : 0) }'
		fi
	done
fi

if [ "${META_PAIR_L3:-1}" = 1 ]; then
	mkdir -p "$RESULTS/l3"
	CFG_L3="$RESULTS/l3/meta-pair-l3.template.json"
	cat >"$CFG_L3" <<JSON
{
  "board": "bench",
  "controlSocket": "$SOCK",
  "ports": [{ "name": "fwd-in", "unclaimed": "drop", "mac": "@S0MAC@" }],
  "pairs": [
    {
      "name": "bench-pair",
      "mode": "l3",
      "uplink": "fwd-in",
      "tenant": { "netns": "pfsink", "interface": "s0", "addresses": ["198.19.0.1/16"] },
      "primaryInterface": "fwd-out",
      "primary": { "policy": "pass", "chain": [{ "program": "count" }] },
      "peer": { "policy": "drop" }
    }
  ],
  "programs": [{ "name": "count", "object": "counter.bpf.o", "section": "tc" }]
}
JSON
	sed 's/@S0MAC@/02:00:00:00:00:01/' "$CFG_L3" >"$RESULTS/l3/check.json"
	"$BIN" validate "$RESULTS/l3/check.json" --objects "$OBJECTS" >/dev/null
	# s0's MAC is known only once the harness made the topology: the command writes the config from the template.
	CMD_L3="sed \"s/@S0MAC@/\$(ip netns exec pfsink cat /sys/class/net/s0/address)/\" $CFG_L3 >$RESULTS/l3/meta-pair-l3.json;
 $(run_cmd "$RESULTS/l3/meta-pair-l3.json" "$RESULTS/l3" "")"
	"$HARNESS" --sizes 64,1500 --fwd-cpus 1 \
		--cmd "$CMD_L3" --cmd-ready 'runtime: forwarding ports=' \
		--label "meta-appliance run @ $COMMIT (port -> adopted l3 pair: LPM, TTL and Ethernet rewrite, counter program on the primary side, AF_XDP copy mode, 1 core)" \
		--out "$RESULTS/l3" "$@"
	l2=$(median_pps custom 64 "$RESULTS/runs.tsv"); l3=$(median_pps custom 64 "$RESULTS/l3/runs.tsv")
	if [ -n "$l2" ] && [ -n "$l3" ]; then
		awk -v a="$l2" -v b="$l3" 'BEGIN {
			printf "meta-pair.sh: at 64 B: l2 pair %.3f Mpps, l3 pair %.3f Mpps (%+.1f%%)\n", a / 1e6, b / 1e6, (a > 0 ? 100 * (b - a) / a : 0) }'
	fi
fi

echo
echo "meta-pair.sh: table above ('custom' = meta-appliance run, port -> pair -> tenant); full results in $RESULTS"
shopt -s nullglob
stats=("$RESULTS"/pair-stats-*.txt)
[ ${#stats[@]} -gt 0 ] || { echo "meta-pair.sh: no pair statistics were written: did the appliance run?" >&2; exit 1; }
for f in "${stats[@]}"; do
	echo "== $(basename "$f") (last snapshot of one run)"
	grep -E "count|tenant_stats|bench-pair|^Vm(RSS|HWM):" "$f" || cat "$f"
done
