#!/usr/bin/env bash
# Builds the board's initramfs (cpio newc, gzip): busybox, the board's kernel modules (decompressed, in
# dependency order, listed in /etc/modules.load), glibc + libgpiod + gpiod tools from Debian arm64 packages,
# the NativeAOT meta-appliance, the board profile (/etc/board.env) and /init.
# No root needed: cpio records every file as owned by root (--owner 0:0).
#
# usage: make-initramfs.sh --kernel-root DIR --kver KVER --modules "a b c" --busybox DIR --libc DIR
#                          --libgpiod DIR --gpiod DIR --app FILE --init DIR --board-env FILE --out FILE.gz
set -euo pipefail

while [ $# -gt 0 ]; do
  case "$1" in
    --kernel-root) KROOT="$2" ;; --kver) KVER="$2" ;; --modules) MODULES="$2" ;;
    --busybox) BB="$2" ;; --libc) LIBC="$2" ;; --libgpiod) LIBGPIOD="$2" ;; --gpiod) GPIOD="$2" ;;
    --app) APP="$2" ;; --init) INIT="$2" ;; --board-env) BOARD_ENV="$2" ;; --out) OUT_FILE="$2" ;;
    *) echo "make-initramfs.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
for v in KROOT KVER MODULES BB LIBC LIBGPIOD GPIOD APP INIT BOARD_ENV OUT_FILE; do
  [ -n "${!v:-}" ] || { echo "make-initramfs.sh: missing --$(tr '[:upper:]_' '[:lower:]-' <<<"$v")" >&2; exit 2; }
done

MODDIR="$KROOT/lib/modules/$KVER"
[ -f "$MODDIR/modules.dep" ] || { echo "make-initramfs.sh: $MODDIR/modules.dep missing (run depmod -b $KROOT $KVER)" >&2; exit 1; }
[ -x "$APP" ] || { echo "make-initramfs.sh: $APP is not an executable (run ./build.sh publish linux-arm64)" >&2; exit 1; }

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/mapp-initramfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root,boot,lib/modules,lib/aarch64-linux-gnu,usr/lib/aarch64-linux-gnu,var/log}
ln -s ../run "$ROOT/var/run"          # FHS: /var/run is /run (iproute2-style /var/run/netns for tenant namespaces)

# busybox (static); applet links are installed by /init at boot (busybox --install -s).
install -m 755 "$BB/bin/busybox" "$ROOT/bin/busybox"

# glibc for the NativeAOT binary and the gpiod tools (NEEDED: ld-linux-aarch64.so.1, libc.so.6, libm.so.6).
for lib in ld-linux-aarch64.so.1 libc.so.6 libm.so.6; do
  src=$(find "$LIBC" -name "$lib" \( -type f -o -type l \) | grep aarch64-linux-gnu | head -1)
  [ -n "$src" ] || { echo "make-initramfs.sh: $lib not found in $LIBC" >&2; exit 1; }
  cp -L "$src" "$ROOT/lib/aarch64-linux-gnu/$lib"
done
ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$ROOT/lib/ld-linux-aarch64.so.1"

# libgpiod (v1 ABI, libgpiod.so.2) for System.Device.Gpio's LibGpiodDriver, plus gpiodetect/gpioinfo/gpioset/gpioget.
find "$LIBGPIOD" -name 'libgpiod.so.2*' -type f -exec cp {} "$ROOT/usr/lib/aarch64-linux-gnu/" \;
so=$(cd "$ROOT/usr/lib/aarch64-linux-gnu" && ls libgpiod.so.2.* | head -1)
ln -s "$so" "$ROOT/usr/lib/aarch64-linux-gnu/libgpiod.so.2"
for t in gpiodetect gpioinfo gpioset gpioget; do
  [ -f "$GPIOD/usr/bin/$t" ] && install -m 755 "$GPIOD/usr/bin/$t" "$ROOT/usr/bin/$t"
done

# The appliance.
install -m 755 "$APP" "$ROOT/usr/bin/meta-appliance"

# Kernel modules: resolve each requested name through modules.dep (dependencies first, each once),
# skip built-ins, decompress (busybox insmod cannot read .ko.xz).
declare -A DEP_OF=() PATH_OF=() DONE=()
while IFS= read -r line; do
  path=${line%%:*}; deps=${line#*:}
  name=$(basename "$path"); name=${name%%.ko*}; name=${name//-/_}
  PATH_OF[$name]=$path; DEP_OF[$name]=$deps
done < "$MODDIR/modules.dep"
declare -A BUILTIN=()
if [ -f "$MODDIR/modules.builtin" ]; then
  while IFS= read -r path; do n=$(basename "$path"); n=${n%%.ko*}; BUILTIN[${n//-/_}]=1; done < "$MODDIR/modules.builtin"
fi
ORDER=()
add_module() {
  local name=${1//-/_} dn i
  [ -n "${DONE[$name]:-}" ] && return 0
  if [ -n "${BUILTIN[$name]:-}" ]; then DONE[$name]=1; return 0; fi
  [ -n "${PATH_OF[$name]:-}" ] || { echo "make-initramfs.sh: module $name is neither in modules.dep nor built in ($KVER)" >&2; exit 1; }
  DONE[$name]=1
  # modules.dep lists the full dependency closure, outermost last: load from the end of the list.
  local deps=(${DEP_OF[$name]})
  for ((i=${#deps[@]}-1; i>=0; i--)); do
    dn=$(basename "${deps[$i]}"); dn=${dn%%.ko*}; add_module "$dn"
  done
  ORDER+=("$name")
}
for m in $MODULES; do add_module "$m"; done
: > "$ROOT/etc/modules.load"
for name in "${ORDER[@]}"; do
  src="$MODDIR/${PATH_OF[$name]}"
  case "$src" in
    *.ko.xz) xz -dc "$src" > "$ROOT/lib/modules/$name.ko" ;;
    *.ko.zst) zstd -dqc "$src" > "$ROOT/lib/modules/$name.ko" ;;
    *.ko.gz) gzip -dc "$src" > "$ROOT/lib/modules/$name.ko" ;;
    *) cp "$src" "$ROOT/lib/modules/$name.ko" ;;
  esac
  echo "$name" >> "$ROOT/etc/modules.load"
done

install -m 644 "$BOARD_ENV" "$ROOT/etc/board.env"
echo "$KVER" > "$ROOT/etc/kernel-release"
# /init and its helpers (image/init/: init -> /init, everything else -> /usr/sbin).
install -m 755 "$INIT/init" "$ROOT/init"
for f in "$INIT"/*; do [ "$(basename "$f")" = init ] || install -m 755 "$f" "$ROOT/usr/sbin/$(basename "$f")"; done

mkdir -p "$(dirname "$OUT_FILE")"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet) | gzip -9 -n > "$OUT_FILE.tmp"
mv "$OUT_FILE.tmp" "$OUT_FILE"
echo "initramfs: $OUT_FILE ($(stat -c %s "$OUT_FILE") bytes; modules: ${ORDER[*]})" >&2
