# Debian arm64 packages for the image: downloaded with `apt-get download`, cached in image/cache/debs,
# extracted once into image/cache/extract/<deb file name>/. Sourced by build-image.sh.
# A second build downloads nothing: a package whose resolved file is already cached is reused, and when apt
# cannot resolve it (offline, no arm64 lists) the newest cached file of that package is used.

DEB_CACHE="${DEB_CACHE:-$IMAGE_DIR/cache/debs}"
DEB_EXTRACT="${DEB_EXTRACT:-$IMAGE_DIR/cache/extract}"

# Makes apt able to resolve :arm64 packages (adds the architecture and refreshes the lists once).
debs_enable_arm64() {
  local archs policy
  archs=$(dpkg --print-foreign-architectures)
  policy=$(apt-cache policy busybox-static:arm64 2>/dev/null || true)
  if grep -qx arm64 <<<"$archs" && grep -q 'Candidate: [0-9]' <<<"$policy"; then
    return 0
  fi
  if ls "$DEB_CACHE"/linux-image-*_arm64.deb >/dev/null 2>&1 && [ "$(id -u)" -ne 0 ]; then
    return 0      # not root, but everything may already be cached: deb_fetch falls back to the cache
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: apt cannot resolve arm64 packages; run once as root: dpkg --add-architecture arm64 && apt-get update" >&2
    return 1
  fi
  log "enabling the arm64 architecture in apt (dpkg --add-architecture arm64; apt-get update)"
  dpkg --add-architecture arm64
  apt-get update -q >/dev/null
}

# deb_resolve NAME -> concrete package name (follows a meta package like linux-image-6.12-arm64 to its kernel).
deb_resolve() {
  local name="$1" dep
  dep=$(apt-cache depends "$name:arm64" 2>/dev/null | awk '$1=="Depends:" && index($2, "linux-image-")==1 {print $2; exit}')
  case "$name" in
    linux-image-*-arm64) [ -n "$dep" ] && { echo "${dep%:arm64}"; return; } ;;
  esac
  echo "$name"
}

# deb_fetch NAME -> prints the path of the cached .deb (downloading it when it is not cached yet).
deb_fetch() {
  local name="$1" pkg file
  mkdir -p "$DEB_CACHE"
  pkg=$(deb_resolve "$name")
  file=$(cd "$DEB_CACHE" && apt-get download --print-uris "$pkg:arm64" 2>/dev/null | awk '{print $2; exit}' | sed 's/:/%3a/g')
  if [ -n "$file" ] && [ -f "$DEB_CACHE/$file" ]; then
    echo "$DEB_CACHE/$file"; return 0
  fi
  if [ -n "$file" ]; then
    log "downloading $pkg:arm64 ($file)"
    (cd "$DEB_CACHE" && apt-get download -q "$pkg:arm64" >/dev/null 2>&1) \
      || { echo "error: apt-get download $pkg:arm64 failed (network? run apt-get update)" >&2; return 1; }
    [ -f "$DEB_CACHE/$file" ] || { echo "error: apt-get download $pkg:arm64 did not produce $file" >&2; return 1; }
    echo "$DEB_CACHE/$file"; return 0
  fi
  # apt cannot resolve it (offline or no arm64 lists): fall back to the newest cached file.
  file=$(ls -1 "$DEB_CACHE"/"${pkg}"_*_arm64.deb 2>/dev/null | sort -V | tail -1)
  [ -n "$file" ] || { echo "error: cannot resolve $pkg:arm64 with apt and it is not in $DEB_CACHE" >&2; return 1; }
  echo "$file"
}

# deb_extract FILE.deb -> prints the directory holding its extracted contents (extracted once).
deb_extract() {
  local deb="$1" dir
  dir="$DEB_EXTRACT/$(basename "$deb" .deb)"
  if [ ! -f "$dir/.extracted" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir"
    touch "$dir/.extracted"
  fi
  echo "$dir"
}
