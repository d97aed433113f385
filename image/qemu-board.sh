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
#   --net1 LOCAL:REMOTE   the same for eth1 (defaults: 23000:23001 and 23010:23011)
#   --direct-kernel       fallback: boot the kernel/initrd/append taken from the image with -kernel (no U-Boot)
#   --timeout SECONDS     kill QEMU after this long (exit code 124)
#   --smp N --memory MiB  guest size (defaults 2, 512)
# Files in WORKDIR: console.log (serial), pl061-trace.log (QEMU trace of PL061 GPIO output changes),
# qmp.sock (QMP; `system_powerdown` presses the board's power button), qemu.pid.
set -euo pipefail
IMAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$IMAGE_DIR/.." && pwd)"
BOARD=qemu-virt IMG="" ENV_IMG="" DISK=snapshot WORKDIR="" CONSOLE=stdio NET0=23000:23001 NET1=23010:23011
DIRECT=no TIMEOUT=0 SMP=2 MEM=512
while [ $# -gt 0 ]; do
  case "$1" in
    --board) BOARD="$2"; shift ;; --uboot-env) ENV_IMG="$2"; shift ;; --image) IMG="$2"; shift ;; --disk) DISK="$2"; shift ;;
    --workdir) WORKDIR="$2"; shift ;; --console) CONSOLE="$2"; shift ;;
    --net0) NET0="$2"; shift ;; --net1) NET1="$2"; shift ;; --direct-kernel) DIRECT=yes ;;
    --timeout) TIMEOUT="$2"; shift ;; --smp) SMP="$2"; shift ;; --memory) MEM="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "qemu-board.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
. "$ROOT/board/$BOARD/board.env"
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

ARGS=(-M virt,acpi=off -cpu "${BOARD_QEMU_CPU:-cortex-a72}" -smp "$SMP" -m "$MEM" -no-reboot -display none -monitor none
      -drive "if=none,id=disk0,$DRIVE" -device virtio-blk-pci,drive=disk0
      -qmp "unix:$WORKDIR/qmp.sock,server=on,wait=off" -pidfile "$WORKDIR/qemu.pid"
      -trace pl061_set_output -trace pl061_input_change -D "$WORKDIR/pl061-trace.log")
i=0
for pair in "$NET0" "$NET1"; do
  ARGS+=(-netdev "dgram,id=n$i,local.type=inet,local.host=127.0.0.1,local.port=${pair%%:*},remote.type=inet,remote.host=127.0.0.1,remote.port=${pair##*:}"
         -device "virtio-net-pci,netdev=n$i,mac=52:54:00:00:00:1$i,romfile=")
  i=$((i+1))
done
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

echo "qemu-board: booting $IMG ($([ "$DIRECT" = yes ] && echo "direct kernel" || echo "U-Boot distro boot")), work dir $WORKDIR" >&2
qemu-system-aarch64 "${ARGS[@]}" 0<&0 &
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
