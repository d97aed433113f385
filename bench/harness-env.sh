# Sourced (not run) by the benchmarks that drive the shared forwarding harness (../shared/bench/run.sh):
# checks what they need and sets ROOT, HARNESS, OUTDIR, BIN, STAMP, COMMIT, RESULTS and PF_BUILD_DIR.
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
