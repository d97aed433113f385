# U-Boot environment for boards whose U-Boot keeps it in flash (QEMU virt: pflash unit 1, board.md §10.2).
# Starts from the complete built-in default environment (an environment found in flash replaces the default
# completely), applies the board's KEY=VALUE overrides, and powers off after a failed boot instead of
# falling through to DHCP. Sourced by build-image.sh.

# uboot_env_image U_BOOT_BIN "k=v k=v" OUT_FILE
uboot_env_image() {
  local ubin="$1" overrides="$2" out="$3" txt kv
  command -v mkenvimage >/dev/null || { echo "error: mkenvimage missing (apt-get install u-boot-tools)" >&2; return 1; }
  [ -f "$ubin" ] || { echo "error: $ubin missing (apt-get install u-boot-qemu)" >&2; return 1; }
  txt="$out.txt"
  # The default environment is stored in u-boot.bin as NUL-separated text ending in a double NUL.
  tr '\0' '\n' < "$ubin" | sed -n '/^bootcmd=run distro_bootcmd$/,/^$/p' | sed '/^$/d' > "$txt"
  grep -q '^distro_bootcmd=' "$txt" || { echo "error: no default environment found in $ubin" >&2; return 1; }
  for kv in $overrides; do
    if grep -q "^${kv%%=*}=" "$txt"; then sed -i "s|^${kv%%=*}=.*|$kv|" "$txt"; else echo "$kv" >> "$txt"; fi
  done
  sed -i 's|^bootcmd=.*|bootcmd=run distro_bootcmd; echo "### BOOT FAILED"; poweroff|' "$txt"
  mkenvimage -s 0x40000 -o "$out" "$txt"
  truncate -s 64M "$out"      # a pflash backing file must be exactly 64 MiB (sparse)
}
