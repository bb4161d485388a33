#!/usr/bin/env bash
# Debian packages the tests use as independent oracles and fixture builders. Installs only what is missing.
set -euo pipefail
need=()
check() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
check qemu-img qemu-utils
check ntfscat ntfs-3g
check wimlib-imagex wimtools
check hivexregedit libwin-hivex-perl
check hivexml libhivex-bin
check fls sleuthkit
check mcopy mtools
check mkfs.fat dosfstools
check sfdisk fdisk
check osslsigncode osslsigncode
check openssl openssl
check xz xz-utils
check objdump binutils
/usr/bin/python3 -c 'import pyvhdi' >/dev/null 2>&1 || need+=(python3-libvhdi)
[ -f /usr/share/unifont/unifont.hex ] || need+=(unifont)
[ -f /usr/share/fonts/X11/100dpi/helvR12.pcf.gz ] || need+=(xfonts-100dpi)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
