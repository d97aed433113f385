#!/usr/bin/env bash
# MetaAppliance build entry point. Verbs: deps build test publish [RID] run image [BOARD] deb [ARCH] bench
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
OUT="$ROOT/out"

# Debian packages the build, the tests and the board need (see README "What build.sh installs").
DEB_PACKAGES=(
  # NativeAOT for linux-x64 and cross-compiled linux-arm64 (reference/board.md §1)
  clang llvm lld binutils-aarch64-linux-gnu libc6-dev-arm64-cross libgcc-12-dev-arm64-cross
  qemu-user-static file libicu72 ca-certificates
  # eBPF objects and the kernel oracle
  libbpf-dev bpftool
  # namespaces, veth and real clients for datapath tests (a DHCPv6 server and client: dnsmasq outside, dhclient -6
  # in a tenant)
  iproute2 iputils-ping iperf3 netcat-openbsd tcpdump ethtool procps dnsmasq-base isc-dhcp-client
  # the forwarding benchmark harness (shared/bench)
  gcc make libxdp-dev xdp-tools time
  # startup benchmark (bench/startup.sh)
  hyperfine
  # the SD image and the emulated board (busybox-static also gives the datapath tests a real DHCP server and client:
  # udhcpd in a tenant, udhcpc outside)
  qemu-system-arm u-boot-qemu u-boot-tools kmod genimage mtools dosfstools busybox-static cpio gzip xz-utils
  # libgpiod v1 on the PC, so the LED tests call System.Device.Gpio's libgpiod driver for real
  libgpiod2
  # the .deb: built with dpkg-deb, checked with lintian and systemd-analyze, installed into an overlay chroot
  dpkg-dev lintian systemd man-db groff-base
  # the unit under systemd as PID 1: a booted Debian 12 container (packaging/deb/check-systemd-boot.sh)
  systemd-container
  # capture files read by real readers, /metrics parsed by the real Prometheus parser (issue 15)
  tshark python3-prometheus-client
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

deps() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q >/dev/null
    # wireshark-common asks whether non-root users may capture: answer no, never prompt
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is not on PATH" >&2; exit 1; }
  dotnet restore MetaAppliance.sln -v q --nologo >/dev/null || dotnet restore MetaAppliance.sln -v q --nologo
  programs
}

# eBPF example programs, built with clang from programs/*.bpf.c into out/programs/*.bpf.o
programs() {
  [ -f programs/Makefile ] && make -s -C programs OUT="$OUT/programs" || true
}

build() { dotnet build MetaAppliance.sln -c Release -v q --nologo -clp:ErrorsOnly; }

publish() {
  local rid="${1:-linux-x64}"
  log "publishing NativeAOT meta-appliance for $rid"
  dotnet publish src/Appliance.Host/Appliance.Host.csproj -c Release -r "$rid" -o "$OUT/$rid" -v q --nologo -clp:ErrorsOnly
  # The conformance plugin too (bpf-conformance-plugin [--jit]): the arm64 JIT's tests run it under qemu-user.
  dotnet publish src/Appliance.Bpf.Conformance/Appliance.Bpf.Conformance.csproj -c Release -r "$rid" -o "$OUT/$rid" -v q --nologo -clp:ErrorsOnly
  ls -l "$OUT/$rid/meta-appliance" >&2
}

# Prints each failed test's message and stack trace from a project's console log (at most 80 lines each),
# so a red CI run says why without the log files.
failure_details() {
  awk '/^  (Passed|Skipped) / { on = 0 } /^  Failed / { on = 1; n = 0; print "---- " $0; next }
       on && n < 80 { print; n++ }' "$1"
}

# Runs every test project in turn (serially: privileged tests create namespaces and interfaces),
# then prints one closing line "N passed, N failed, N skipped".
test_all() {
  publish linux-x64
  publish linux-arm64
  export META_APPLIANCE_OUT="$OUT"
  local passed=0 failed=0 skipped=0 rc=0 log
  rm -rf "$OUT/test-logs"; mkdir -p "$OUT/test-logs"
  for proj in tests/*.Tests/*.csproj; do
    local name; name="$(basename "$proj" .csproj)"
    log "testing $name"
    log="$OUT/test-logs/$name.log"
    set +e
    dotnet test "$proj" -c Release --nologo -v q --logger "console;verbosity=normal" \
      --blame-hang-timeout 15m --blame-hang-dump-type none \
      --logger "trx;LogFileName=$name.trx" --results-directory "$OUT/test-logs" 2>&1 \
      | tee "$log" | grep -E '^\s+(Failed|Skipped) |^Total tests|error'
    local prc=${PIPESTATUS[0]}
    set -e
    [ "$prc" -eq 0 ] || rc=1
    local counters; counters=$(grep -o '<Counters [^>]*>' "$OUT/test-logs/$name.trx" 2>/dev/null || true)
    if [ -n "$counters" ]; then
      local p f t e
      p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
      f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
      t=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
      e=$(sed -E 's/.* executed="([0-9]+)".*/\1/' <<<"$counters")
      passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
      [ "$f" -eq 0 ] || { rc=1; failure_details "$log"; }
    else
      echo "no test results from $name (build failure? see $log)" >&2; failed=$((failed + 1)); rc=1
    fi
  done
  echo "${passed} passed, ${failed} failed, ${skipped} skipped"
  return $rc
}

bench() {
  publish linux-x64
  export META_APPLIANCE_OUT="$OUT"
  for b in bench/*.sh; do [ -x "$b" ] && { log "bench: $b"; "$b"; }; done
}

verb="${1:-help}"; shift || true
case "$verb" in
  deps) deps ;;
  build) deps; build ;;
  test) deps; test_all ;;
  publish) deps; publish "${1:-linux-x64}" ;;
  run) deps; publish linux-arm64; image/build-image.sh qemu-virt; exec board/run-demo.sh qemu-virt "$@" ;;
  image) deps; publish linux-arm64; exec image/build-image.sh "${1:-qemu-virt}" "${@:2}" ;;
  deb)
    arch="${1:-amd64}"
    case "$arch" in amd64) rid=linux-x64 ;; arm64) rid=linux-arm64 ;; *) echo "usage: ./build.sh deb [amd64|arm64]" >&2; exit 2 ;; esac
    deps; publish "$rid"; packaging/deb/build-deb.sh "$arch" ;;
  bench) deps; bench ;;
  *) echo "usage: ./build.sh deps|build|test|publish [linux-x64|linux-arm64]|run|image [BOARD]|deb [amd64|arm64]|bench" >&2; exit 2 ;;
esac
