#!/usr/bin/env bash
# Boots a throw-away Debian 12 system with systemd as PID 1 in a container (systemd-nspawn --boot) with a
# meta-appliance .deb installed and its unit enabled, and checks the service as systemd runs it: started by
# multi-user.target, Type=notify readiness (READY=1 after forwarding starts), STATUS=, watchdog pings, reload
# (ExecReload) and stop. The root is an overlay of this machine's own root filesystem (Debian 12) with a tmpfs on
# top, in a private mount namespace, so nothing touches the real system and nothing is downloaded. The container
# gets one veth, eth0 (the packaged config's port; its other end, HOSTIF, stays on the host), all capabilities
# and the bpf() system call (nspawn's filter leaves it out by default). Prints one "== STEP" header per check with
# its output; exits non-zero at the first failing step.
# usage: packaging/deb/check-systemd-boot.sh DEB [HOSTIF]     (root; needs systemd-container)
set -euo pipefail
DEB="$(readlink -f "${1:?usage: $0 DEB [HOSTIF]}")"
HOSTIF="${2:-mappboot$$}"
[ "$(id -u)" -eq 0 ] || { echo "error: needs root (mount namespaces, containers)" >&2; exit 1; }
command -v systemd-nspawn >/dev/null || { echo "error: systemd-nspawn not found (apt-get install systemd-container)" >&2; exit 1; }
exec unshare --mount --propagation private bash -euo pipefail -s "$DEB" "$HOSTIF" <<'INNER'
DEB="$1" HOSTIF="$2"
TOP="$(mktemp -d /dev/shm/mapp-boot.XXXXXX)"
NSPAWN=
cleanup() {
  if [ -n "$NSPAWN" ]; then
    kill -TERM "$NSPAWN" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$NSPAWN" 2>/dev/null || true
    wait "$NSPAWN" 2>/dev/null || true
  fi
  ip link del "$HOSTIF" 2>/dev/null || true
  umount -R "$TOP" 2>/dev/null || true
  rm -rf "$TOP"
}
trap cleanup EXIT
mount -t tmpfs -o size=1g tmpfs "$TOP"
mkdir -p "$TOP/upper" "$TOP/work" "$TOP/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$TOP/upper,workdir=$TOP/work" "$TOP/root"
R="$TOP/root"
cp "$DEB" "$R/tmp/meta-appliance.deb"
chroot "$R" dpkg --force-confnew -i /tmp/meta-appliance.deb >/dev/null
# Only what the check needs starts at boot: the host's own enabled services stay off.
find "$R/etc/systemd/system" -path '*.wants/*' -type l \
  ! -name 'meta-appliance.service' ! -name 'systemd-*' ! -name 'dbus*' ! -name 'getty*' -delete
chroot "$R" systemctl enable meta-appliance.service >/dev/null 2>&1
# A machine id of its own (the overlay copies the host's).
rm -f "$R/etc/machine-id" && chroot "$R" systemd-machine-id-setup >/dev/null 2>&1

systemd-nspawn -q -D "$R" --register=no --keep-unit --capability=all --system-call-filter=bpf \
  --network-veth-extra="$HOSTIF:eth0" --boot --console=read-only >"$TOP/console.log" 2>&1 &
NSPAWN=$!
init_pid() { pgrep -P "$NSPAWN" | head -1; }
in_box() { nsenter -t "$(init_pid)" -a "$@"; }
state=
for _ in $(seq 150); do
  if [ -n "$(init_pid)" ]; then
    state=$(in_box systemctl show -p ActiveState --value meta-appliance.service 2>/dev/null || true)
    [ "$state" = active ] || [ "$state" = failed ] && break
  fi
  kill -0 "$NSPAWN" 2>/dev/null || { echo "systemd-nspawn ended:"; cat "$TOP/console.log"; exit 1; }
  sleep 0.2
done
echo "== boot"
in_box systemctl is-system-running --wait 2>&1 || true
echo "== status"
in_box systemctl show -p ActiveState -p SubState -p Type -p StatusText -p NRestarts -p WatchdogUSec meta-appliance.service
[ "$state" = active ] || { in_box journalctl -u meta-appliance --no-pager | tail -30; exit 1; }
echo "== watchdog"
w1=$(in_box systemctl show -p WatchdogTimestampMonotonic --value meta-appliance.service)
sleep 6
w2=$(in_box systemctl show -p WatchdogTimestampMonotonic --value meta-appliance.service)
echo "pings $w1 -> $w2"
echo "== cli"
in_box meta-appliance status
echo "== reload"
in_box systemctl reload meta-appliance.service
in_box systemctl show -p ActiveState -p NRestarts meta-appliance.service
echo "== stop"
in_box systemctl stop meta-appliance.service
in_box systemctl show -p ActiveState -p Result meta-appliance.service
echo "== journal"
in_box journalctl -u meta-appliance --no-pager -o cat | grep -v '^$' | tail -40
echo "== done"
INNER
