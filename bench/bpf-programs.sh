#!/usr/bin/env bash
# eBPF example programs: ns per run in the appliance's interpreter and in its JIT beside the kernel's JIT
# (BPF_PROG_TEST_RUN with repeat), on a 64 B and a 1500 B frame, as a markdown table; plus the
# interpreter's ns/instruction on a loop and the per-run cost of clearing the stack (0/8/64/512 bytes).
# Run as root (the kernel side loads programs); without root only our side is measured. Pinned to the
# last CPU with taskset when available.
# Env: BENCH_SECONDS (time per measurement, default 0.5), META_APPLIANCE_OUT (default out/).
set -euo pipefail
# shellcheck source=bench/appliance-bench-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/appliance-bench-env.sh"
run_appliance_bench bpf 0.5
