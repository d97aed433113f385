#!/usr/bin/env bash
# Startup benchmark (issue 2): size of the NativeAOT binary and the wall time of
# `meta-appliance validate examples/qemu-virt.json` (falls back to `--version` where validate or the
# example is not there). Uses hyperfine when installed (build.sh installs it), else a date +%s%N loop.
#
# usage: bench/startup.sh        env: META_APPLIANCE_OUT (default ./out), STARTUP_RUNS (default 50)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTDIR="${META_APPLIANCE_OUT:-$ROOT/out}"
BIN="$OUTDIR/linux-x64/meta-appliance"
RUNS="${STARTUP_RUNS:-50}"
[ -x "$BIN" ] || { echo "startup.sh: $BIN not found: run ./build.sh publish first" >&2; exit 1; }

EXAMPLE="$ROOT/examples/qemu-virt.json"
ARGS=(validate "$EXAMPLE" --objects "$ROOT/out/programs")
NOTE=""
rc=0
[ -f "$EXAMPLE" ] && { "$BIN" "${ARGS[@]}" >/dev/null 2>&1 || rc=$?; } || rc=2
case $rc in
0) ;;
1) NOTE=" (the config has findings: exit 1, timed all the same)" ;;
*) echo "startup.sh: 'validate $EXAMPLE' is not available (exit $rc); timing --version instead" >&2
   ARGS=(--version) ;;
esac
CMD="$BIN ${ARGS[*]}"
SHOWN="meta-appliance ${ARGS[*]#$ROOT/}$NOTE"

size=$(stat -c %s "$BIN")
echo "| what | value |"
echo "|---|---:|"
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
printf '| binary size (%s) | %d bytes (%s MiB) |\n' "linux-x64/meta-appliance" "$size" "$(mib "$size")"
if [ -x "$OUTDIR/linux-arm64/meta-appliance" ]; then
	a=$(stat -c %s "$OUTDIR/linux-arm64/meta-appliance")
	printf '| binary size (%s) | %d bytes (%s MiB) |\n' "linux-arm64/meta-appliance" "$a" "$(mib "$a")"
fi

if command -v hyperfine >/dev/null; then
	json=$(mktemp)
	hyperfine --warmup 5 --runs "$RUNS" --shell=none --ignore-failure --export-json "$json" "$CMD" >/dev/null
	python3 - "$json" "$SHOWN" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = lambda s: s * 1000
print(f"| startup `{sys.argv[2]}` mean ± sd (hyperfine, {len(r['times'])} runs) | {ms(r['mean']):.2f} ± {ms(r['stddev']):.2f} ms |")
print(f"| startup median / min / max | {ms(r['median']):.2f} / {ms(r['min']):.2f} / {ms(r['max']):.2f} ms |")
PY
	rm -f "$json"
else
	times=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s%N); $CMD >/dev/null 2>&1 || true; t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000 )))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v cmd="$SHOWN" '{a[NR]=$1; s+=$1} END {
		printf "| startup `%s` mean (date loop, %d runs) | %.2f ms |\n", cmd, NR, s/NR/1000
		printf "| startup median / min / max | %.2f / %.2f / %.2f ms |\n", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000 }'
fi
