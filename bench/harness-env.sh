# Sourced (not run) by the benchmarks that drive the shared forwarding harness (../shared/bench/run.sh):
# checks what they need, sets ROOT, HARNESS, OUTDIR, BIN, STAMP, COMMIT, RESULTS and PF_BUILD_DIR, and defines
# run_cmd, median_pps and versus_afxdp (below).
# usage: BENCH_NAME=forwarding; source "$(dirname "$0")/harness-env.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="$ROOT/../shared/bench/run.sh"
OUTDIR="${META_APPLIANCE_OUT:-$ROOT/out}"
BIN="$OUTDIR/linux-x64/meta-appliance"
[ -x "$HARNESS" ] || { echo "$BENCH_NAME.sh: harness not found at $HARNESS" >&2; exit 1; }
[ -x "$BIN" ] || { echo "$BENCH_NAME.sh: $BIN not found: run ./build.sh publish first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$BENCH_NAME.sh: must run as root (namespaces, XDP, AF_XDP)" >&2; exit 1; }

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS="${BENCH_OUT:-$ROOT/out/bench/$BENCH_NAME-$STAMP}"
mkdir -p "$RESULTS" "$ROOT/out/bench/harness-build"
RESULTS="$(cd "$RESULTS" && pwd)"
# Keep the harness's C tools out of the read-only shared folder.
export PF_BUILD_DIR="$ROOT/out/bench/harness-build"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

# The --cmd that runs `meta-appliance run --config CONFIG --objects $OBJECTS [RUN-OPTIONS]` (the harness runs it inside
# the forwarder namespace, pinned to --fwd-cpus, and SIGTERMs its process group at the end of each run) and, while it
# runs, writes a `stats` snapshot every 2 s to DIR/pair-stats-PID.txt (with MAP: also `maps dump MAP` and the
# appliance's VmRSS and VmHWM from /proc/PID/status). The snapshots run on CPU 0, not on the measured core: each one
# starts processes (~20 ms of CPU), about 1 % of CPU 1 that afxdp-c (run with -q) does not pay; the appliance's answer
# to them stays on CPU 1. Needs OBJECTS and SOCK (the config's controlSocket).
# usage: CMD=$(run_cmd CONFIG DIR MAP|"" [RUN-OPTIONS...])
run_cmd() {
	local cfg=$1 dir=$2 map=$3 off="taskset -c 0" snap
	shift 3
	snap="$off $BIN stats --socket $SOCK"
	[ -z "$map" ] || snap="{ $snap; $off $BIN maps dump $map --socket $SOCK; grep -E '^Vm(RSS|HWM):' /proc/\$A/status; }"
	printf '%s' "$BIN run --config $cfg --objects $OBJECTS --leds none${*:+ $*} & A=\$!;
 while sleep 2 && kill -0 \$A 2>/dev/null; do $snap >$dir/pair-stats-\$A.txt 2>&1; done; wait \$A"
}

# Median delivered pps of MODE at SIZE in a runs.tsv (empty when it has none or the file is missing).
# usage: median_pps MODE SIZE RUNS_TSV
median_pps() {
	[ -f "$3" ] || return 0
	awk -F'\t' -v m="$1" -v z="$2" 'FNR > 1 && $1 == m && $2 == z { v[++k] = $5 + 0 }
		END { if (!k) exit; for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			printf "%.0f\n", k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2 }' "$3"
}

# "X Mpps = Rx afxdp-c (Y Mpps, same rounds)": the median delivered rate of the appliance ('custom') at SIZE in a
# runs.tsv beside afxdp-c's from the same invocation; empty when it lacks either.
# usage: versus_afxdp SIZE RUNS_TSV
versus_afxdp() {
	local a c
	a=$(median_pps custom "$1" "$2"); c=$(median_pps afxdp-c "$1" "$2")
	[ -n "$a" ] && [ -n "$c" ] || return 0
	awk -v a="$a" -v c="$c" 'BEGIN { printf "%.3f Mpps = %.2fx afxdp-c (%.3f Mpps, same rounds)", a / 1e6, (c > 0 ? a / c : 0), c / 1e6 }'
}
