#!/usr/bin/env bash
# Builds out/deb/meta-appliance_VERSION_ARCH.deb from the published binary (out/linux-RID/meta-appliance) and the
# example programs (out/programs). Called by `./build.sh deb [amd64|arm64]` after publishing; prints the .deb's path.
# usage: packaging/deb/build-deb.sh [amd64|arm64] [--out DIR]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ARCH="${1:-amd64}"; shift || true
OUT="$ROOT/out/deb"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    *) echo "usage: $0 [amd64|arm64] [--out DIR]" >&2; exit 2 ;;
  esac
done
case "$ARCH" in
  amd64) RID=linux-x64 ;;
  arm64) RID=linux-arm64 ;;
  *) echo "error: architecture $ARCH: amd64 or arm64" >&2; exit 2 ;;
esac
BIN="$ROOT/out/$RID/meta-appliance"
[ -x "$BIN" ] || { echo "error: $BIN is missing: ./build.sh publish $RID" >&2; exit 1; }
ls "$ROOT"/out/programs/*.bpf.o >/dev/null 2>&1 || { echo "error: no out/programs/*.bpf.o: ./build.sh deps" >&2; exit 1; }

# The man page and the completion come from the binary's own verb table; run the target binary (under
# qemu-user when it is not the build machine's architecture).
run_bin() {
  if [ "$(dpkg --print-architecture)" = "$ARCH" ]; then "$BIN" "$@"
  else DOTNET_GCRegionRange=40000000 qemu-aarch64-static -L /usr/aarch64-linux-gnu "$BIN" "$@"; fi
}
VERSION="$(run_bin --version | awk '{print $2}')"
VERSION="${VERSION%%+*}"

STAGE="$(mktemp -d)"; trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/pkg"
install -d -m 755 "$PKG/DEBIAN" "$PKG/usr/bin" "$PKG/etc/meta-appliance" "$PKG/lib/systemd/system" \
  "$PKG/usr/share/man/man8" "$PKG/usr/share/bash-completion/completions" "$PKG/usr/share/doc/meta-appliance" \
  "$PKG/usr/share/meta-appliance/programs" "$PKG/usr/share/meta-appliance/examples" "$PKG/usr/share/lintian/overrides"
install -m 755 "$BIN" "$PKG/usr/bin/meta-appliance"
case "$ARCH" in amd64) OBJCOPY=x86_64-linux-gnu-objcopy ;; arm64) OBJCOPY=aarch64-linux-gnu-objcopy ;; esac
"$OBJCOPY" --remove-section=.comment "$PKG/usr/bin/meta-appliance" # compiler banners only
install -m 644 "$HERE/config.json" "$PKG/etc/meta-appliance/config.json"
install -m 644 "$HERE/meta-appliance.service" "$PKG/lib/systemd/system/meta-appliance.service"
run_bin --man | gzip -9n > "$PKG/usr/share/man/man8/meta-appliance.8.gz"
run_bin completion bash > "$PKG/usr/share/bash-completion/completions/meta-appliance"
chmod 644 "$PKG/usr/share/man/man8/meta-appliance.8.gz" "$PKG/usr/share/bash-completion/completions/meta-appliance"
install -m 644 "$ROOT"/out/programs/*.bpf.o "$PKG/usr/share/meta-appliance/programs/"
install -m 644 "$ROOT"/programs/*.bpf.c "$PKG/usr/share/meta-appliance/programs/"
# Examples name their objects as ../programs/NAME.bpf.o, which is where they are beside examples/.
install -m 644 "$ROOT"/examples/*.json "$PKG/usr/share/meta-appliance/examples/"
install -m 644 "$HERE/copyright" "$PKG/usr/share/doc/meta-appliance/copyright"
gzip -9n < "$ROOT/README.md" > "$PKG/usr/share/doc/meta-appliance/README.md.gz"
DATE="$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}")"
printf 'meta-appliance (%s) unstable; urgency=medium\n\n  * Built from the MetaAppliance repository.\n\n -- MetaAppliance builders <builders@meta-appliance.invalid>  %s\n' \
  "$VERSION" "$DATE" | gzip -9n > "$PKG/usr/share/doc/meta-appliance/changelog.gz"
chmod 644 "$PKG"/usr/share/doc/meta-appliance/*
install -m 644 "$HERE/lintian-overrides" "$PKG/usr/share/lintian/overrides/meta-appliance"
for f in postinst prerm postrm; do install -m 755 "$HERE/$f" "$PKG/DEBIAN/$f"; done
echo /etc/meta-appliance/config.json > "$PKG/DEBIAN/conffiles"

SIZE="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: meta-appliance
Version: $VERSION
Architecture: $ARCH
Maintainer: MetaAppliance builders <builders@meta-appliance.invalid>
Installed-Size: $SIZE
Depends: libc6 (>= 2.34)
Recommends: libgpiod2
Suggests: bpftool
Section: net
Priority: optional
Homepage: https://meta-appliance.invalid/
Description: network firmware forwarding meta pairs through AF_XDP and eBPF
 One NativeAOT binary reads a JSON config of meta pairs (netkit-like veth
 tenants) and eBPF programs, run by its own interpreter, and forwards frames
 between the tenants and the machine's Ethernet ports through AF_XDP rings.
 .
 The systemd unit meta-appliance.service runs /etc/meta-appliance/config.json
 (Type=notify with a watchdog; reload re-reads the config). It is not enabled
 on install: edit the config, then systemctl enable --now meta-appliance.
CONTROL
(cd "$PKG" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$PKG/DEBIAN/md5sums"
chmod 644 "$PKG/DEBIAN/control" "$PKG/DEBIAN/conffiles" "$PKG/DEBIAN/md5sums"

mkdir -p "$OUT"
DEB="$OUT/meta-appliance_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
