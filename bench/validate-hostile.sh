#!/usr/bin/env bash
# Linear loading (issue 9): the time `meta-appliance validate` takes on a hostile config at the 4 MiB limit
# (200,000 pairs, every one with errors; scripts/hostile-config.py), with its peak memory and how much it
# printed (at most the first 100 errors plus "and K more"). Median of VALIDATE_RUNS runs (default 3).
#
# usage: bench/validate-hostile.sh     env: META_APPLIANCE_OUT (default ./out), VALIDATE_PAIRS (default 200000)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTDIR="${META_APPLIANCE_OUT:-$ROOT/out}"
BIN="$OUTDIR/linux-x64/meta-appliance"
PAIRS="${VALIDATE_PAIRS:-200000}"
RUNS="${VALIDATE_RUNS:-3}"
[ -x "$BIN" ] || { echo "validate-hostile.sh: $BIN not found: run ./build.sh publish first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$ROOT/scripts/hostile-config.py" "$PAIRS" > "$work/hostile.json"

times=()
for ((i = 0; i < RUNS; i++)); do
	rc=0
	/usr/bin/time -f '%e %M' -o "$work/time" "$BIN" validate "$work/hostile.json" --no-objects >/dev/null 2>"$work/stderr" || rc=$?
	[ "$rc" -eq 1 ] || { echo "validate-hostile.sh: validate exited $rc (expected 1: invalid)" >&2; exit 1; }
	read -r seconds rss_kb < <(tail -n 1 "$work/time") # GNU time says "Command exited with non-zero status 1" first
	times+=("$seconds")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
summary=$(tail -n 1 "$work/stderr")
echo "| what | value |"
echo "|---|---:|"
printf '| hostile config | %d pairs, %d bytes |\n' "$PAIRS" "$(stat -c %s "$work/hostile.json")"
printf '| `validate` wall time, median of %d | %s s |\n' "$RUNS" "$median"
printf '| peak RSS (last run) | %d MiB |\n' "$(( rss_kb / 1024 ))"
printf '| output | %d lines, %d bytes on stderr |\n' "$(wc -l < "$work/stderr")" "$(stat -c %s "$work/stderr")"
printf '| last line | %s |\n' "${summary//|/\\|}"
