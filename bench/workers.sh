#!/usr/bin/env bash
# Multi-worker forwarding benchmark (issue 14): meta-appliance `forward` with 1 and with 2 workers beside afxdp-c,
# in the same round, reported per busy core.
#
# The shared harness (../shared/bench/run.sh) cannot measure a second worker: its veths have one queue and its
# generator puts every frame on fwd-in's RX queue 0, so a 2-worker engine would see one queue. This script builds
# its own topology with the harness's tools (pftool gen/sink, afxdp_fwd from its build directory):
#
#   [gen]  g0 <==veth, 2 queues==> fwd-in  [fwd]  fwd-out <==veth, 2 queues==> s0  [sink: pftool sink, XDP count+drop]
#
# A veth puts a frame pushed by XDP (the live-frames generator) on the peer's RX queue (CPU % queues) of the CPU
# that sends it, so a generator pinned to CPU k feeds fwd-in's queue k: the 2-worker rows run one generator on each
# CPU, each at half the offered rate (queue 0 and queue 1, worker w owning queue w); the 1-worker and afxdp-c rows
# run one generator on CPU 0 at the full rate (queue 0 only). Forwarders busy-poll (like the harness's rows):
# afxdp-c and the 1-worker engine on CPU 1, the 2-worker engine's worker w on CPU w. A 2-worker worker shares its CPU
# with the generator feeding its queue: it yields the CPU after 64 empty loops (README "Busy polling on a shared
# core"); spinning on, it kept its generator off the CPU and its FILL ring ran dry meanwhile, which halved the row.
# The last two columns show that per frame, from forward's counters: worker loops (empty ones are spinning) and the
# frames the kernel dropped for an empty FILL ring.
#
# Per busy core: "forwarder cores" is the forwarder process's CPU time (all its threads, /proc/PID/stat) per second
# of the window; "busy cores" is the whole machine's (both CPUs, /proc/stat, so it includes the generators, the
# sink and the veths' softirq work, which on 2 cores share the CPUs with the workers). Each round runs every mode
# once (a drift of the host hits all alike); the table shows medians and each per-core figure against afxdp-c's in
# the same rounds.
#
# usage: bench/workers.sh [--runs N] [--duration S] [--size B] [--rate PPS] [--modes LIST]
#   --runs 3, --duration 10 s, --size 64 (bytes as XDP sees them), --rate 1500000 (total offered frames/s),
#   --modes afxdp-c,meta-1,meta-2
# env: META_APPLIANCE_OUT (default ./out), BENCH_OUT (default out/bench/workers-<timestamp>)
# Needs the harness's tools in out/bench/harness-build (bench/forwarding.sh builds them; ./build.sh bench runs it first).
set -euo pipefail
BENCH_NAME=workers
# shellcheck source=bench/harness-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness-env.sh"
BUILD="$PF_BUILD_DIR"

RUNS=3 DURATION=10 SIZE=64 RATE=1500000 MODES=afxdp-c,meta-1,meta-2 WARMUP=1
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) RUNS=$2; shift ;; --duration) DURATION=$2; shift ;; --size) SIZE=$2; shift ;;
	--rate) RATE=$2; shift ;; --modes) MODES=$2; shift ;; --warmup) WARMUP=$2; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "workers.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for f in pftool afxdp_fwd pf_xdp.bpf.o; do
	[ -e "$BUILD/$f" ] || { echo "workers.sh: $BUILD/$f missing: run bench/forwarding.sh once (it builds the harness tools)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "workers.sh: needs 2 CPUs" >&2; exit 1; }

NS_GEN="mapp-wgen-$$" NS_FWD="mapp-wfwd-$$" NS_SINK="mapp-wsink-$$"
PIDS=()
log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
stop_all() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	PIDS=()
	for ns in $NS_GEN $NS_FWD $NS_SINK; do ip netns del "$ns" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

wait_for() { # file regex seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

topology() {
	local ns
	for ns in $NS_GEN $NS_FWD $NS_SINK; do
		ip netns add "$ns"
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	local q="numtxqueues 2 numrxqueues 2"
	# shellcheck disable=SC2086
	ip link add g0 netns $NS_GEN $q type veth peer name fwd-in netns $NS_FWD $q
	# shellcheck disable=SC2086
	ip link add fwd-out netns $NS_FWD $q type veth peer name s0 netns $NS_SINK $q
	# spare pairs holding each generator's XDP program (pftool gen -k; one per generator)
	ip -n $NS_GEN link add wk0 type veth peer name wk1
	ip -n $NS_GEN link add wk2 type veth peer name wk3
	ip -n $NS_GEN link set g0 up
	ip -n $NS_FWD link set fwd-in up
	ip -n $NS_FWD link set fwd-out up
	ip -n $NS_SINK link set s0 up
	nsx $NS_FWD ethtool -K fwd-in gro on >/dev/null
	nsx $NS_SINK ethtool -K s0 gro on >/dev/null
}

sink_snap() { # -> packets
	local before i
	before=$(grep -c '^SNAP' "$SINK_LOG" || true)
	kill -USR1 "$SINK_PID"
	for ((i = 0; i < 50; i++)); do [ "$(grep -c '^SNAP' "$SINK_LOG" || true)" -gt "$before" ] && break; sleep 0.05; done
	grep '^SNAP' "$SINK_LOG" | tail -1 | awk '{print $3}'
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# one_run MODE RUN -> appends "mode run offered delivered fwd_cores busy_cores" to $RESULTS/runs.tsv
one_run() {
	local mode=$1 run=$2 lp="$RESULTS/logs/$1-r$2"
	topology
	local dmac
	dmac=$(nsx $NS_SINK cat /sys/class/net/s0/address)
	taskset -c 0 ip netns exec $NS_SINK "$BUILD/pftool" sink -i s0 >"$lp.sink.log" 2>&1 &
	SINK_PID=$! SINK_LOG="$lp.sink.log"; PIDS+=("$SINK_PID")
	wait_for "$SINK_LOG" '^READY' 10 || { echo "sink did not start: $(cat "$SINK_LOG")" >&2; exit 1; }
	local gens=1 fwd
	case $mode in
	afxdp-c)
		taskset -c 1 ip netns exec $NS_FWD "$BUILD/afxdp_fwd" -i fwd-in -o fwd-out -b 64 -q >"$lp.fwd.log" 2>&1 &
		fwd=$!; wait_for "$lp.fwd.log" '^READY' 10 ;;
	meta-1)
		taskset -c 1 ip netns exec $NS_FWD "$BIN" forward --in fwd-in --out fwd-out --busy-poll --cpu 1 \
			--ready-line READY-workers >"$lp.fwd.log" 2>&1 &
		fwd=$!; wait_for "$lp.fwd.log" '^READY-workers' 30 ;;
	meta-2)
		gens=2
		taskset -c 0,1 ip netns exec $NS_FWD "$BIN" forward --in fwd-in --out fwd-out --busy-poll --workers 2 --cpu 0 \
			--ready-line READY-workers >"$lp.fwd.log" 2>&1 &
		fwd=$!; wait_for "$lp.fwd.log" '^READY-workers' 30 ;;
	*) echo "workers.sh: unknown mode $mode" >&2; exit 2 ;;
	esac || { echo "$mode did not start: $(tail -5 "$lp.fwd.log")" >&2; exit 1; }
	PIDS+=("$fwd")
	local per_gen=$((RATE / gens))
	gen() { # seconds logsuffix: the generators, generator k on CPU k (fwd-in's queue k)
		local k gp=()
		for ((k = 0; k < gens; k++)); do
			taskset -c $k ip netns exec $NS_GEN "$BUILD/pftool" gen -i g0 -s "$SIZE" -m live -D "$dmac" \
				-k "wk$((2 * k))" -r "$per_gen" -d "$1" >"$lp.gen$k.$2.log" 2>&1 &
			gp+=($!)
		done
		for k in "${gp[@]}"; do wait "$k" || { echo "generator failed: $(cat "$lp".gen*."$2".log)" >&2; exit 1; }; done
	}
	[ "$WARMUP" = 0 ] || { gen "$WARMUP" warmup; sleep 0.3; }
	local s0 s1 f0 f1 m0 m1
	s0=$(sink_snap); f0=$(proc_ticks "$fwd"); m0=$(machine_ticks)
	gen "$DURATION" measured
	f1=$(proc_ticks "$fwd"); m1=$(machine_ticks)
	sleep 0.3
	s1=$(sink_snap)
	local offered row
	offered=$(cat "$lp".gen*.measured.log | awk '/^RESULT gen/{for(i=1;i<=NF;i++) if ($i ~ /^pps=/) { sub("pps=","",$i); s+=$i } } END { printf "%.0f", s }')
	row=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$mode" "$run" "$offered" \
		"$(awk -v a="$s0" -v b="$s1" -v d="$DURATION" 'BEGIN { printf "%.0f", (b - a) / d }')" \
		"$(awk -v a="$f0" -v b="$f1" -v d="$DURATION" 'BEGIN { printf "%.2f", (b - a) / 100 / d }')" \
		"$(awk -v a="$m0" -v b="$m1" -v ncpu="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.2f", (t > 0 ? ncpu * (y[1] - x[1]) / t : 0) }')")
	stop_all
	# Per frame, from the counters meta-appliance forward prints at stop (its whole run, warm-up included): worker
	# loops (a busy-polling worker's empty loops show here) and the frames the kernel dropped for an empty FILL ring.
	local per_frame="-\t-"
	[ "$mode" = afxdp-c ] || per_frame=$(awk '
		/^RESULT fwd-in/ { for (i = 1; i <= NF; i++) { if ($i ~ /^rx=/) rx += substr($i, 4); if ($i ~ /^fill_empty=/) fe += substr($i, 12) } }
		/^RESULT worker/ { for (i = 1; i <= NF; i++) if ($i ~ /^loops=/) lo += substr($i, 7) }
		END { if (rx > 0) printf "%.1f\t%.2f", lo / rx, fe / rx; else printf "-\t-" }' "$lp.fwd.log")
	printf '%s\t%b\n' "$row" "$per_frame" >>"$RESULTS/runs.tsv"
}

mkdir -p "$RESULTS/logs"
printf 'mode\trun\toffered_pps\tdelivered_pps\tforwarder_cores\tbusy_cores\tloops_per_frame\tfill_empty_per_frame\n' >"$RESULTS/runs.tsv"
IFS=, read -r -a MODE_LIST <<<"$MODES"
for ((r = 1; r <= RUNS; r++)); do
	for m in "${MODE_LIST[@]}"; do
		log "round $r: $m (${SIZE} B, ${DURATION} s, offered $RATE pps)"
		one_run "$m" "$r"
	done
done

# Medians per mode; per-core figures against afxdp-c's median in the same rounds.
{
	echo "meta-appliance forward @ $COMMIT: 1 vs 2 workers beside afxdp-c, ${SIZE} B, 2-queue veths, ${RUNS} x ${DURATION} s, offered ${RATE} pps"
	echo
	echo "| mode | frame B | workers | offered Mpps | delivered Mpps | forwarder cores | Mpps per forwarder core | busy cores (machine) | Mpps per busy core | per busy core vs afxdp-c (same rounds) | worker loops per frame | FILL-empty drops per frame |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' -v size="$SIZE" -v order="$MODES" '
		NR == 1 { next }
		{ n[$1]++; off[$1, n[$1]] = $3; del[$1, n[$1]] = $4; fc[$1, n[$1]] = $5; bc[$1, n[$1]] = $6
		  ppc[$1, n[$1]] = $6 > 0 ? $4 / $6 : 0; lpf[$1, n[$1]] = $7; fpf[$1, n[$1]] = $8 }
		function median(arr, m, k,   v, i, j, t, c) {
			c = n[m]; for (i = 1; i <= c; i++) v[i] = arr[m, i]
			for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
		}
		END {
			split(order, modes, ",")
			ref = ("afxdp-c" in n) ? median(ppc, "afxdp-c") : 0
			for (i = 1; i in modes; i++) {
				m = modes[i]; if (!(m in n)) continue
				d = median(del, m); f = median(fc, m); b = median(bc, m); p = median(ppc, m)
				w = m == "meta-2" ? 2 : 1
				printf "| %s | %d | %s | %.3f | **%.3f** | %.2f | %.3f | %.2f | %.3f | %s | %s | %s |\n", m, size, m == "afxdp-c" ? "-" : w,
					median(off, m) / 1e6, d / 1e6, f, (f > 0 ? d / f : 0) / 1e6, b, p / 1e6, (ref > 0 ? sprintf("%.2f", p / ref) : "-"),
					m == "afxdp-c" ? "-" : sprintf("%.1f", median(lpf, m)), m == "afxdp-c" ? "-" : sprintf("%.2f", median(fpf, m))
			}
		}' "$RESULTS/runs.tsv"
	echo
	echo "workers.sh: per-run data in $RESULTS/runs.tsv, tool logs in $RESULTS/logs"
} | tee "$RESULTS/summary.md"
