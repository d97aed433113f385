#!/usr/bin/env bash
# `./build.sh run`: boots the qemu-virt SD image (built by ./build.sh image) on the emulated board and shows
# its serial console, its LEDs (decoded from QEMU's PL061 trace with the board profile's LED table) and the
# appliance's status; sends demo frames into eth0. Ctrl-C presses the board's power button (QMP
# system_powerdown -> gpio-keys -> clean shutdown) and kills QEMU if it has not powered off after 20 s.
# usage: board/run-demo.sh [BOARD] [--image FILE] [--no-traffic]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BOARD=qemu-virt IMG="" TRAFFIC=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --image) IMG="$2"; shift ;; --no-traffic) TRAFFIC=no ;;
    -*) echo "run-demo.sh: unknown option $1" >&2; exit 2 ;;
    *) BOARD="$1" ;;
  esac
  shift
done
. "$ROOT/board/$BOARD/board.env"
IMG="${IMG:-$ROOT/image/out/$BOARD/sdcard.img}"
[ -f "$IMG" ] || { echo "error: $IMG missing; run ./build.sh image $BOARD" >&2; exit 1; }
for t in nc awk; do command -v $t >/dev/null || { echo "error: $t missing (./build.sh deps)" >&2; exit 1; }; done

W=$(mktemp -d "${TMPDIR:-/tmp}/mapp-demo.XXXXXX")
PIDS=()
BOARD_PID=""
bold() { printf '\033[1m%s\033[0m\n' "$*"; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$BOARD_PID" ] && kill "$BOARD_PID" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

qmp() { printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$1" | nc -U -q 1 "$W/qmp.sock" >/dev/null 2>&1 || true; }
power_off() {
  trap '' INT
  echo; bold "== Ctrl-C: pressing the power button (QMP system_powerdown) =="
  qmp system_powerdown
  for _ in $(seq 1 40); do kill -0 "$BOARD_PID" 2>/dev/null || { bold "== board powered off =="; exit 0; }; sleep 0.5; done
  bold "== no clean power-off after 20 s: killing QEMU =="; qmp quit; exit 1
}

bold "== booting $IMG on the emulated $BOARD board (U-Boot -> extlinux.conf -> Linux -> meta-appliance) =="
# setsid: a Ctrl-C on the terminal must reach only this script (QEMU would die on SIGINT without a clean power-off).
setsid "$ROOT/image/qemu-board.sh" --board "$BOARD" --image "$IMG" --workdir "$W" --console socket \
  --net0 23000:23001 --net1 23010:23011 </dev/null &
BOARD_PID=$!
trap power_off INT TERM
for _ in $(seq 1 100); do [ -S "$W/console.sock" ] && break; sleep 0.1; done
[ -S "$W/console.sock" ] || { echo "error: QEMU did not start" >&2; wait "$BOARD_PID"; exit 1; }

# Console: QEMU logs it to console.log; we keep the socket open to type status commands.
mkfifo "$W/console.in"
nc -U "$W/console.sock" < "$W/console.in" > /dev/null & PIDS+=($!)
exec 3>"$W/console.in"
touch "$W/console.log"
tail -n +1 -F "$W/console.log" 2>/dev/null & PIDS+=($!)

# LEDs: decode the PL061 trace with the profile's LED table once a second (blinking lines are shown as such).
leds() {
  local off=0 last=""
  while kill -0 "$BOARD_PID" 2>/dev/null; do
    sleep 1
    [ -f "$W/pl061-trace.log" ] || continue
    local size; size=$(stat -c %s "$W/pl061-trace.log")
    local line
    line=$(tail -c +$((off + 1)) "$W/pl061-trace.log" | head -c $((size - off)) | awk -v table="$BOARD_LEDS" -v state="$last" '
      BEGIN { n = split(table, rows, "\n"); for (i = 1; i <= n; i++) if (rows[i] ~ /=/) {
                split(rows[i], kv, "="); split(kv[2], f, ":"); name[f[2]] = kv[1]; low[f[2]] = (f[3] == "active-low"); order[++k] = f[2] }
              m = split(state, prev, " "); for (i = 1; i <= m; i++) { split(prev[i], p, "="); level[p[1]] = p[2] } }
      /pl061_set_output/ { l = $(NF-2); v = $NF; level[l] = v; flips[l]++ }
      END { s = ""; for (i = 1; i <= k; i++) { l = order[i]; v = (l in level) ? level[l] : 0
              on = low[l] ? (v == 0) : (v == 1); shown = flips[l] > 1 ? "blink" : (on ? "on" : "off")
              s = s sprintf("%s%s=%s", s == "" ? "" : " ", name[l], shown); raw = raw sprintf("%s=%s ", l, v) }
            print raw "|" s }')
    off=$size
    last=${line%%|*}
    local shown=${line#*|}
    [ "$shown" != "${prev_shown:-}" ] && printf '\n\033[36m[leds] %s\033[0m\n' "$shown"
    prev_shown=$shown
  done
}
leds & PIDS+=($!)

# Wait for READY, then show the status now and then and send demo traffic into eth0: an ARP request for tenant-a
# every second (the activity LED blinks; tenant-a answers through the appliance).
for _ in $(seq 1 600); do grep -q '^MAPP: READY' "$W/console.log" 2>/dev/null && break; sleep 0.2; done
frame() {   # ARP who-has 10.0.1.2 (tenant-a in examples/qemu-virt.json) tell 10.0.1.1, from 02:00:00:00:00:01
  printf '\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01'
  printf '\x02\x00\x00\x00\x00\x01\x0a\x00\x01\x01\x00\x00\x00\x00\x00\x00\x0a\x00\x01\x02'
  head -c 18 /dev/zero
}
n=0
while kill -0 "$BOARD_PID" 2>/dev/null; do
  if [ $((n % 15)) -eq 0 ]; then
    echo 'meta-appliance status 2>/dev/null || echo "MAPP: status: the control socket does not answer"; appliance-rss' >&3 2>/dev/null || true
  fi
  if [ "$TRAFFIC" = yes ]; then frame "$n" | nc -u -w0 -p 23001 127.0.0.1 23000 2>/dev/null || true; fi
  n=$((n + 1))
  sleep 1
done
wait "$BOARD_PID" || true
