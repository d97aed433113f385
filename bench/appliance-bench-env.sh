# Sourced (not run) by the benchmarks of bench/Appliance.Bench (bpf-programs.sh, engine.sh): builds the example
# programs into $OUT/programs and the bench, then runs it pinned to the last CPU (when taskset is there) in place of
# the calling script.
# usage: source "$(dirname "${BASH_SOURCE[0]}")/appliance-bench-env.sh"; run_appliance_bench VERB DEFAULT_SECONDS
# env:   BENCH_SECONDS (time per measurement), META_APPLIANCE_OUT (default out/)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${META_APPLIANCE_OUT:-$ROOT/out}"

run_appliance_bench() {
	local verb=$1 seconds=$2 pin=()
	cd "$ROOT"
	make -s -C programs OUT="$OUT/programs"
	dotnet build bench/Appliance.Bench/Appliance.Bench.csproj -c Release -v q --nologo -clp:ErrorsOnly >&2
	if command -v taskset >/dev/null; then pin=(taskset -c "$(( $(nproc) - 1 ))"); fi
	exec "${pin[@]}" dotnet bench/Appliance.Bench/bin/Release/net10.0/Appliance.Bench.dll "$verb" \
		--programs "$OUT/programs" --seconds "${BENCH_SECONDS:-$seconds}"
}
