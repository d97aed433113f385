#!/usr/bin/env bash
# Installs a meta-appliance .deb into a throw-away Debian 12 root and checks it there: an overlay of this
# machine's own root filesystem (Debian 12) with a tmpfs on top, in a private mount namespace, so nothing
# touches the real system and nothing needs downloading. Prints one "== STEP" header per check with its output;
# exits non-zero at the first failing step.
# usage: packaging/deb/check-install.sh DEB      (root)
set -euo pipefail
DEB="$(readlink -f "${1:?usage: $0 DEB}")"
[ "$(id -u)" -eq 0 ] || { echo "error: needs root (mount namespaces, chroot)" >&2; exit 1; }
exec unshare --mount --propagation private bash -euo pipefail -s "$DEB" <<'INNER'
DEB="$1"
TOP="$(mktemp -d /dev/shm/mapp-debroot.XXXXXX)"
trap 'umount -R "$TOP" 2>/dev/null || true; rm -rf "$TOP"' EXIT
mount -t tmpfs -o size=512m tmpfs "$TOP"
mkdir -p "$TOP/upper" "$TOP/work" "$TOP/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$TOP/upper,workdir=$TOP/work" "$TOP/root"
R="$TOP/root"
mount -t proc proc "$R/proc"
mount -t tmpfs tmpfs "$R/tmp"
mount -t tmpfs tmpfs "$R/run"
mkdir -p "$R/pkg" && cp "$DEB" "$R/pkg/"
echo "== os"
grep PRETTY_NAME "$R/etc/os-release"
echo "== dpkg -i"
chroot "$R" dpkg --force-confnew -i "/pkg/$(basename "$DEB")"
echo "== dpkg -L"
chroot "$R" dpkg -L meta-appliance
echo "== conffiles"
chroot "$R" dpkg-query -W -f='${Conffiles}\n' meta-appliance
echo "== validate"
chroot "$R" meta-appliance validate /etc/meta-appliance/config.json
echo "== validate examples"
for f in "$R"/usr/share/meta-appliance/examples/*.json; do
  chroot "$R" meta-appliance validate "/usr/share/meta-appliance/examples/$(basename "$f")"
done
echo "== man"
# sed reads to the end: with head, man could die of SIGPIPE and pipefail would fail the step at random
chroot "$R" env MANWIDTH=100 man -l /usr/share/man/man8/meta-appliance.8.gz 2>&1 | sed -n 1,5p
echo "== systemd-analyze verify"
chroot "$R" systemd-analyze verify /lib/systemd/system/meta-appliance.service 2>&1
echo "== remove"
chroot "$R" dpkg --purge meta-appliance
test ! -e "$R/usr/bin/meta-appliance" && test ! -e "$R/etc/meta-appliance/config.json"
echo "== done"
INNER
