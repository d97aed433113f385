#!/usr/bin/env bash
# Builds the flashable SD image for a board profile, without root:
#   image/out/BOARD/sdcard.img   MBR, FAT32 partition "BOOT": Image, initrd.gz, extlinux/extlinux.conf,
#                                config.json, programs/*.bpf.o, [DTB], [board firmware files]
#   image/out/BOARD/uboot-env.img  U-Boot environment for pflash (QEMU virt only)
#   image/out/BOARD/build-info.env what went in (kernel, sizes)
# Kernel, busybox, glibc and libgpiod are Debian bookworm arm64 packages, cached in image/cache/.
# usage: image/build-image.sh [BOARD] [--out DIR] [--fetch-only]   (called by `./build.sh image BOARD` after publishing
#        linux-arm64; --out defaults to image/out/BOARD; META_APPLIANCE_BIN overrides the arm64 binary)
set -euo pipefail
IMAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$IMAGE_DIR/.." && pwd)"
BOARD=qemu-virt OUTDIR="" FETCH_ONLY=no
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUTDIR="$2"; shift ;;
    --fetch-only) FETCH_ONLY=yes ;;     # resolve and cache the Debian packages, print them, build nothing
    -*) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
    *) BOARD="$1" ;;
  esac
  shift
done
PROFILE="$ROOT/board/$BOARD/board.env"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
[ -f "$PROFILE" ] || { echo "error: no board profile $PROFILE (boards: $(ls "$ROOT/board" | tr '\n' ' '))" >&2; exit 2; }
# shellcheck source=/dev/null
. "$PROFILE"
. "$IMAGE_DIR/lib/debs.sh"
. "$IMAGE_DIR/lib/uboot-env.sh"

if [ "$FETCH_ONLY" = yes ]; then
  debs_enable_arm64
  for p in "$BOARD_KERNEL_PACKAGE" busybox-static libc6 libgpiod2 gpiod; do deb_fetch "$p"; done
  exit 0
fi

APP="${META_APPLIANCE_BIN:-$ROOT/out/${BOARD_RID:-linux-arm64}/meta-appliance}"
[ -x "$APP" ] || { echo "error: $APP missing; run ./build.sh publish ${BOARD_RID:-linux-arm64}" >&2; exit 1; }
file -b "$APP" | grep -q 'ARM aarch64' || { echo "error: $APP is not an arm64 binary ($(file -b "$APP"))" >&2; exit 1; }

OUTDIR="${OUTDIR:-$IMAGE_DIR/out/$BOARD}"
mkdir -p "$OUTDIR"; OUTDIR="$(cd "$OUTDIR" && pwd)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mapp-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bootfs" "$WORK/root" "$WORK/tmp"
export MTOOLS_SKIP_CHECK=1

log "[$BOARD] Debian arm64 packages (cache: $DEB_CACHE)"
debs_enable_arm64
KDEB=$(deb_fetch "$BOARD_KERNEL_PACKAGE")
KROOT=$(deb_extract "$KDEB")
KVER=$(ls "$KROOT/lib/modules" | head -1)
if [ ! -f "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  depmod -b "$KROOT" "$KVER"                 # the .deb ships no modules.dep
fi
BB=$(deb_extract "$(deb_fetch busybox-static)")
LIBC=$(deb_extract "$(deb_fetch libc6)")
LIBGPIOD=$(deb_extract "$(deb_fetch libgpiod2)")
GPIOD=$(deb_extract "$(deb_fetch gpiod)")
log "[$BOARD] kernel $KVER ($(basename "$KDEB"))"

log "[$BOARD] initramfs"
"$IMAGE_DIR/make-initramfs.sh" --kernel-root "$KROOT" --kver "$KVER" --modules "$BOARD_MODULES" \
  --busybox "$BB" --libc "$LIBC" --libgpiod "$LIBGPIOD" --gpiod "$GPIOD" --app "$APP" \
  --init "$IMAGE_DIR/init" --board-env "$PROFILE" --out "$WORK/bootfs/initrd.gz"

log "[$BOARD] boot partition contents"
B="$WORK/bootfs"
# Debian's arm64 vmlinuz is an uncompressed Image (booti). BOARD_KERNEL_COMPRESSION=gzip stores Image.gz instead:
# U-Boot's booti decompresses it (it needs kernel_comp_addr_r/kernel_comp_size in its environment), as does
# QEMU's -kernel; a third of the size on the FAT partition and less to read at boot.
case "${BOARD_KERNEL_COMPRESSION:-none}" in
  gzip) KERNEL_FILE=Image.gz; gzip -9 -n < "$KROOT/boot/vmlinuz-$KVER" > "$B/$KERNEL_FILE" ;;
  none) KERNEL_FILE=Image; cp "$KROOT/boot/vmlinuz-$KVER" "$B/$KERNEL_FILE" ;;
  *) echo "error: BOARD_KERNEL_COMPRESSION=${BOARD_KERNEL_COMPRESSION}: gzip or none" >&2; exit 1 ;;
esac
FDT_LINE=""
if [ -n "${BOARD_DTB:-}" ]; then
  dtb="$KROOT/usr/lib/linux-image-$KVER/$BOARD_DTB"
  [ -f "$dtb" ] || { echo "error: $BOARD_DTB is not in $KDEB" >&2; exit 1; }
  mkdir -p "$B/dtbs/$(dirname "$BOARD_DTB")"; cp "$dtb" "$B/dtbs/$BOARD_DTB"
  [ "${BOARD_DTB_AT_ROOT:-no}" = yes ] && cp "$dtb" "$B/$(basename "$BOARD_DTB")"   # Raspberry Pi firmware loads it by name
  [ "${BOARD_EXTLINUX_FDT:-yes}" = yes ] && FDT_LINE="	fdt /dtbs/$BOARD_DTB"
fi
mkdir -p "$B/extlinux"
cat > "$B/extlinux/extlinux.conf" <<EXT
# U-Boot distro boot (MetaAppliance, board $BOARD, kernel $KVER)
default appliance
prompt 0
timeout 0
label appliance
	kernel /$KERNEL_FILE
	initrd /initrd.gz
$FDT_LINE
	append console=$BOARD_CONSOLE ${BOARD_KERNEL_ARGS:-}
EXT
sed -i '/^$/d' "$B/extlinux/extlinux.conf"
config_src="$ROOT/board/$BOARD/${BOARD_CONFIG:-config.json}"
[ -f "$config_src" ] || { echo "error: example config $config_src missing" >&2; exit 1; }
# Objects are "../programs/X.bpf.o" in the repository's examples/ and "programs/X.bpf.o" beside /boot/config.json.
sed 's#"\.\./programs/#"programs/#g' "$config_src" > "$B/config.json"
cp "$B/config.json" "$B/config.factory.json"   # what the failsafe button restores when there is no last good config
mkdir -p "$B/programs"
for o in "$ROOT"/out/programs/*.bpf.o; do [ -f "$o" ] && cp "$o" "$B/programs/"; done
[ -n "$(ls -A "$B/programs")" ] || echo "eBPF objects referenced by config.json go here (programs/NAME.bpf.o)." > "$B/programs/README.txt"
# Board-specific extra boot files (e.g. Raspberry Pi config.txt + U-Boot), from the profile's hook.
if declare -F board_bootfs >/dev/null; then board_bootfs "$B" "$KROOT" "$KVER"; fi

# FAT size: the contents (plus 3 % and 1 MiB for the FAT tables, directories and cluster slack) and
# BOARD_BOOT_FREE_MIB (default 4) free for the user's configs and programs, in whole MiB. Under 64 MiB the
# file system is FAT16 (partition type 0x0E), from 64 MiB on FAT32 (0x0C).
used_kib=$(du -sk --apparent-size "$B" | cut -f1)
free_mib=${BOARD_BOOT_FREE_MIB:-4}
boot_mib=$(( (used_kib * 103 / 100 + 1023) / 1024 + 1 + free_mib ))
if [ $boot_mib -lt 64 ]; then fat_args="-F 16"; part_type=0x0E; else fat_args="-F 32"; part_type=0x0C; fi
files=$(cd "$B" && ls -A | sed 's/.*/"&"/' | paste -sd, | sed 's/,/, /g')
raw=""
if declare -F board_raw_partitions >/dev/null; then raw=$(board_raw_partitions "$WORK/bootloader"); fi
sed -e "s|@BOOT_LABEL@|$BOARD_BOOT_LABEL|" -e "s|@BOOT_FILES@|$files|" -e "s|@BOOT_SIZE@|${boot_mib}M|" \
    -e "s|@BOOT_OFFSET@|${BOARD_BOOT_OFFSET:-1M}|" -e "s|@FAT_ARGS@|$fat_args|" -e "s|@PART_TYPE@|$part_type|" \
    "$IMAGE_DIR/genimage/sdcard.cfg.in" | awk -v raw="$raw" '{ if ($0 == "@RAW_PARTITIONS@") { if (raw != "") print raw } else print }' > "$WORK/genimage.cfg"

log "[$BOARD] genimage (FAT ${boot_mib} MiB)"
# genimage finds the FAT files and the raw bootloader blobs in one input directory.
inputs="$WORK/inputs"; mkdir -p "$inputs"
cp -a "$B/." "$inputs/"
[ -d "$WORK/bootloader" ] && cp -a "$WORK/bootloader/." "$inputs/"
genimage --config "$WORK/genimage.cfg" --rootpath "$WORK/root" --tmppath "$WORK/tmp" \
  --inputpath "$inputs" --outputpath "$WORK/images" >"$WORK/genimage.log" 2>&1 \
  || { cat "$WORK/genimage.log" >&2; echo "error: genimage failed (config: $WORK/genimage.cfg)" >&2; exit 1; }
mv "$WORK/images/sdcard.img" "$OUTDIR/sdcard.img"

if [ -n "${BOARD_UBOOT_ENV:-}" ] && [ -n "${BOARD_UBOOT:-}" ]; then
  uboot_env_image "$BOARD_UBOOT" "$BOARD_UBOOT_ENV" "$OUTDIR/uboot-env.img"
fi

cat > "$OUTDIR/build-info.env" <<INFO
BOARD=$BOARD
KERNEL_PACKAGE=$(basename "$KDEB")
KERNEL_RELEASE=$KVER
IMAGE_BYTES=$(stat -c %s "$OUTDIR/sdcard.img")
BOOT_PARTITION_MIB=$boot_mib
BOOT_CONTENT_KIB=$used_kib
BOOT_FREE_MIB=$free_mib
BOOT_FAT=${fat_args#-F }
KERNEL_FILE=$KERNEL_FILE
KERNEL_BYTES=$(stat -c %s "$B/$KERNEL_FILE")
INITRD_BYTES=$(stat -c %s "$B/initrd.gz")
APPLIANCE_BYTES=$(stat -c %s "$APP")
INFO
log "[$BOARD] $OUTDIR/sdcard.img: $(( $(stat -c %s "$OUTDIR/sdcard.img") / 1048576 )) MiB (kernel $KVER $KERNEL_FILE $(( $(stat -c %s "$B/$KERNEL_FILE") / 1024 )) KiB, initrd $(( $(stat -c %s "$B/initrd.gz") / 1024 )) KiB, FAT${fat_args#-F } ${boot_mib} MiB with ${free_mib} MiB free)"
echo "image: $OUTDIR/sdcard.img $(stat -c %s "$OUTDIR/sdcard.img") bytes ($(( ($(stat -c %s "$OUTDIR/sdcard.img") + 1048575) / 1048576 )) MiB)"
mdir -i "$OUTDIR/sdcard.img@@$(( $(partx -g -o START -n 1 "$OUTDIR/sdcard.img") * 512 ))" -/ :: >&2 || true
