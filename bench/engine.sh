#!/usr/bin/env bash
# The forwarding worker's own CPU ns per frame on the meta-pair bench's path (port → l2 pair with the counter program
# → tenant), turned in process over rings that feed one 60-byte frame forever and complete what goes out at once: no
# copy, no syscall, no other CPU (bench/Appliance.Bench/EngineBenchmark.cs). The shared harness's Mpps also depend on
# how far apart the host puts two vCPUs; this does not, so it shows what a hot-path change gains. Rows: the engine
# alone (static cross-connect), the pair path with the program in the JIT and in the interpreter; bytes allocated
# per frame beside each (0: the hot path allocates nothing). No root needed. Pinned to the last CPU when taskset is there.
# Instructions per frame, which a busy machine does not change (CPU time does, by ±30 % beside two builds): publish the
# bench NativeAOT as the appliance ships, symbols kept, and count under callgrind what the timed turns execute:
#   dotnet publish bench/Appliance.Bench -c Release -r linux-x64 -p:PublishAot=true -p:StripSymbols=false \
#     -p:DebugType=none -p:DebugSymbols=false -o /tmp/engine-bench && rm -f /tmp/engine-bench/*.dbg
#   valgrind --tool=callgrind --toggle-collect='*Setup*Time*' --smc-check=all-non-file \
#     /tmp/engine-bench/Appliance.Bench engine --programs out/programs --seconds 0.3 --only jit
# then "I refs" / the row's "frames timed" = instructions per frame; callgrind_annotate splits them by function.
# Env: BENCH_SECONDS (time per measurement, default 1), META_APPLIANCE_OUT (default out/).
set -euo pipefail
# shellcheck source=bench/appliance-bench-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/appliance-bench-env.sh"
run_appliance_bench engine 1
