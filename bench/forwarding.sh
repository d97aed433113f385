#!/usr/bin/env bash
# Forwarding benchmark (issue 3): meta-appliance's AF_XDP forwarder beside the anchors (Linux bridge, kernel
# XDP redirect, the C AF_XDP forwarder afxdp-c) in the same run and topology, 64 B and 1500 B frames, the
# forwarder on one core. Uses the shared harness ../shared/bench/run.sh unchanged (see its README.md).
#
# usage: bench/forwarding.sh [extra run.sh options, e.g. --runs 1 --duration 5 --sizes 64]
# env:   META_APPLIANCE_OUT (default ./out): where linux-x64/meta-appliance was published
#        BENCH_OUT (default out/bench/forwarding-<timestamp>): results directory
set -euo pipefail
BENCH_NAME=forwarding
# shellcheck source=bench/harness-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness-env.sh"

# The harness runs this inside the forwarder namespace with PF_IN/PF_OUT set; --busy-poll like afxdp-c.
CMD="$BIN forward --in \$PF_IN --out \$PF_OUT --busy-poll --ready-line READY-meta-appliance-forward"

"$HARNESS" --sizes 64,1500 --fwd-cpus 1 \
	--cmd "$CMD" --cmd-ready '^READY-meta-appliance-forward' \
	--label "meta-appliance forward @ $COMMIT (AF_XDP, copy mode on veth, busy poll, 1 core)" \
	--out "$RESULTS" "$@"

echo
echo "forwarding.sh: table above ('custom' = meta-appliance forward); full results in $RESULTS"
