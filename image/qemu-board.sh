#!/usr/bin/env bash
# Boots a board image file on QEMU's arm64 `virt` machine, like a user's board boots the SD card:
# U-Boot (Debian's u-boot-qemu, environment in pflash) -> distro boot -> extlinux.conf on the FAT partition.
# No root needed. Everything it creates lives in one work directory, removed at exit unless --workdir was given.
#
# usage: image/qemu-board.sh [options]
#   --board NAME          board profile (default qemu-virt)
#   --image FILE          SD image (default image/out/BOARD/sdcard.img)
#   --disk snapshot|copy|direct   snapshot (default): guest writes are discarded; copy: boot a copy in the
#                         work dir; direct: the guest writes to FILE itself
#   --uboot-env FILE      U-Boot environment for pflash (default: uboot-env.img beside the image)
#   --workdir DIR         keep console.log, pl061-trace.log, qmp.sock here (caller owns DIR)
#   --console stdio|socket  stdio (default): the serial console on stdin/stdout; socket: on WORKDIR/console.sock
#                         (attach with `nc -U`); both are also logged to WORKDIR/console.log
#   --net0 LOCAL:REMOTE   UDP ports on 127.0.0.1 for eth0: QEMU receives on LOCAL and sends to REMOTE
#   --net1 LOCAL:REMOTE   the same for eth1 (defaults: 23000:23001 and 23010:23011); UDP ports have one queue
#   --netns NS            instead of UDP: the ports are multi-queue taps tap0/tap1 (BOARD_QEMU_QUEUES queues each,
#                         virtio-net mq=on) made in the existing network namespace NS, and QEMU runs inside NS
#                         (root; the caller owns NS and reaches the ports with AF_PACKET sockets on tap0/tap1 there)
#   --direct-kernel       fallback: boot the kernel/initrd/append taken from the image with -kernel (no U-Boot)
#   --timeout SECONDS     kill QEMU after this long (exit code 124)
#   --smp N --memory MiB  guest size (defaults: the profile's BOARD_QEMU_SMP, else 2; 512)
# Files in WORKDIR: console.log (serial), pl061-trace.log (QEMU trace of PL061 GPIO output and input changes),
# qmp.sock (QMP; `system_powerdown` presses the board's power button), qtest.sock (QEMU's qtest protocol:
# `set_irq_in <PL061 QOM path> unnamed-gpio-in LINE 0|1` drives a PL061 input line, e.g. the failsafe button on
# line 6; the path is the /machine/unattached child of type pl061), qemu.pid.
set -euo pipefail
IMAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$IMAGE_DIR/.." && pwd)"
BOARD=qemu-virt IMG="" ENV_IMG="" DISK=snapshot WORKDIR="" CONSOLE=stdio NET0=23000:23001 NET1=23010:23011
DIRECT=no TIMEOUT=0 SMP="" MEM=512 NETNS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --board) BOARD="$2"; shift ;; --uboot-env) ENV_IMG="$2"; shift ;; --image) IMG="$2"; shift ;; --disk) DISK="$2"; shift ;;
    --workdir) WORKDIR="$2"; shift ;; --console) CONSOLE="$2"; shift ;;
    --net0) NET0="$2"; shift ;; --net1) NET1="$2"; shift ;; --direct-kernel) DIRECT=yes ;;
    --timeout) TIMEOUT="$2"; shift ;; --smp) SMP="$2"; shift ;; --memory) MEM="$2"; shift ;; --netns) NETNS="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "qemu-board.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
. "$ROOT/board/$BOARD/board.env"
SMP="${SMP:-${BOARD_QEMU_SMP:-2}}"
IMG="${IMG:-$IMAGE_DIR/out/$BOARD/sdcard.img}"
ENV_IMG="${ENV_IMG:-$(dirname "$IMG")/uboot-env.img}"
command -v qemu-system-aarch64 >/dev/null || { echo "error: qemu-system-aarch64 missing (./build.sh deps installs qemu-system-arm)" >&2; exit 1; }
[ -f "$IMG" ] || { echo "error: image $IMG missing; build it with ./build.sh image $BOARD" >&2; exit 1; }

OWN_WORKDIR=no
if [ -z "$WORKDIR" ]; then WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/mapp-board.XXXXXX"); OWN_WORKDIR=yes; fi
mkdir -p "$WORKDIR"
QPID="" KILLER=""
cleanup() {
  [ -n "$KILLER" ] && kill "$KILLER" 2>/dev/null || true
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID" 2>/dev/null || true; sleep 0.5; kill -9 "$QPID" 2>/dev/null || true; fi
  [ "$OWN_WORKDIR" = yes ] && rm -rf "$WORKDIR"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$DISK" in
  snapshot) DRIVE="file=$IMG,format=raw,snapshot=on" ;;
  copy) cp --sparse=always "$IMG" "$WORKDIR/sdcard.img"; DRIVE="file=$WORKDIR/sdcard.img,format=raw" ;;
  direct) DRIVE="file=$IMG,format=raw" ;;
  *) echo "qemu-board.sh: --disk must be snapshot, copy or direct" >&2; exit 2 ;;
esac

# -qtest (with -accel tcg, or QEMU would pick its qtest accelerator and run no CPU): `set_irq_in PATH unnamed-gpio-in
# N LEVEL` on qtest.sock holds PL061 input line N at LEVEL for as long as the caller wants (the board's buttons;
# QMP's system_powerdown only pulses line 3 for 100 ms).
ARGS=(-M virt,acpi=off -accel tcg -cpu "${BOARD_QEMU_CPU:-cortex-a72}" -smp "$SMP" -m "$MEM" -no-reboot -display none -monitor none
      -qtest "unix:$WORKDIR/qtest.sock,server=on,wait=off" -qtest-log none
      -drive "if=none,id=disk0,$DRIVE" -device virtio-blk-pci,drive=disk0
      -qmp "unix:$WORKDIR/qmp.sock,server=on,wait=off" -pidfile "$WORKDIR/qemu.pid"
      -trace pl061_set_output -trace pl061_input_change -D "$WORKDIR/pl061-trace.log")
RUN=()
if [ -n "$NETNS" ]; then
  # Multi-queue ports: one tap per port with QUEUES queues (QEMU opens one fd per queue), virtio-net with one
  # queue pair per tap queue and 2*QUEUES+2 MSI-X vectors (RX+TX per pair, config, control). The guest's
  # virtio_net enables min(queues, CPUs) pairs by default; a tap spreads the frames written into it over its
  # queues by flow hash (tun_automq), as a NIC's RSS does.
  QUEUES="${BOARD_QEMU_QUEUES:-1}"
  [ -e "/run/netns/$NETNS" ] || { echo "error: network namespace $NETNS does not exist" >&2; exit 1; }
  for i in 0 1; do
    ip -n "$NETNS" tuntap add dev "tap$i" mode tap $([ "$QUEUES" -gt 1 ] && echo multi_queue)
    ip netns exec "$NETNS" sysctl -qw "net.ipv6.conf.tap$i.disable_ipv6=1"
    ip -n "$NETNS" link set "tap$i" up
    ARGS+=(-netdev "tap,id=n$i,ifname=tap$i,script=no,downscript=no,vhost=off$([ "$QUEUES" -gt 1 ] && echo ",queues=$QUEUES")"
           -device "virtio-net-pci,netdev=n$i,mac=52:54:00:00:00:1$i,romfile=$([ "$QUEUES" -gt 1 ] && echo ",mq=on,vectors=$((2 * QUEUES + 2))")")
  done
  RUN=(ip netns exec "$NETNS")
else
  i=0
  for pair in "$NET0" "$NET1"; do
    ARGS+=(-netdev "dgram,id=n$i,local.type=inet,local.host=127.0.0.1,local.port=${pair%%:*},remote.type=inet,remote.host=127.0.0.1,remote.port=${pair##*:}"
           -device "virtio-net-pci,netdev=n$i,mac=52:54:00:00:00:1$i,romfile=")
    i=$((i+1))
  done
fi
case "$CONSOLE" in
  stdio) ARGS+=(-chardev "stdio,id=con0,signal=off,logfile=$WORKDIR/console.log" -serial chardev:con0) ;;
  socket) ARGS+=(-chardev "socket,id=con0,path=$WORKDIR/console.sock,server=on,wait=off,logfile=$WORKDIR/console.log" -serial chardev:con0) ;;
  *) echo "qemu-board.sh: --console must be stdio or socket" >&2; exit 2 ;;
esac

if [ "$DIRECT" = yes ]; then
  export MTOOLS_SKIP_CHECK=1
  off=$(( $(partx -g -o START -n 1 "$IMG") * 512 ))
  mkdir -p "$WORKDIR/boot"
  mcopy -n -i "$IMG@@$off" ::extlinux/extlinux.conf "$WORKDIR/boot/"
  kernel=$(sed -n 's#^[[:space:]]*kernel[[:space:]]\+/##p' "$WORKDIR/boot/extlinux.conf")   # Image or Image.gz (QEMU reads both)
  mcopy -n -i "$IMG@@$off" "::$kernel" ::initrd.gz "$WORKDIR/boot/"
  append=$(sed -n 's/^[[:space:]]*append[[:space:]]\+//p' "$WORKDIR/boot/extlinux.conf")
  ARGS+=(-kernel "$WORKDIR/boot/$kernel" -initrd "$WORKDIR/boot/initrd.gz" -append "$append")
else
  [ -f "$ENV_IMG" ] || { echo "error: $ENV_IMG missing; build it with ./build.sh image $BOARD" >&2; exit 1; }
  ARGS+=(-bios "$BOARD_UBOOT" -drive "if=pflash,unit=1,format=raw,readonly=on,file=$ENV_IMG")
fi

echo "qemu-board: booting $IMG ($([ "$DIRECT" = yes ] && echo "direct kernel" || echo "U-Boot distro boot"), -smp $SMP, ports $([ -n "$NETNS" ] && echo "taps with ${QUEUES} queues in netns $NETNS" || echo "UDP")), work dir $WORKDIR" >&2
"${RUN[@]}" qemu-system-aarch64 "${ARGS[@]}" 0<&0 &
QPID=$!
if [ "$TIMEOUT" -gt 0 ]; then
  ( sleep "$TIMEOUT"; echo "qemu-board: timeout after ${TIMEOUT} s; killing QEMU" >&2; kill "$QPID" 2>/dev/null ) &
  KILLER=$!
fi
set +e
wait "$QPID"; rc=$?
set -e
QPID=""
if [ -n "$KILLER" ]; then
  if kill -0 "$KILLER" 2>/dev/null; then kill "$KILLER" 2>/dev/null; else rc=124; fi
  KILLER=""
fi
exit $rc
