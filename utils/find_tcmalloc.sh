#!/usr/bin/env bash
# Usage: utils/find_tcmalloc.sh
#
# Prints the path of tcmalloc's shared library (Debian: libtcmalloc-minimal4) and exits
# 0, or prints nothing and exits 1 when it is not installed. steps/train.sh preloads it
# for CPU training: glibc's malloc hands the large activation buffers of every step
# back to the kernel and page-faults them in again at the next; tcmalloc keeps them
# (bench/train_step.py measures the difference).
set -uo pipefail
[ $# -eq 0 ] || { "$(dirname "$0")/usage.sh" "$0" >&2; exit 1; }

for ldconfig in ldconfig /sbin/ldconfig /usr/sbin/ldconfig; do
  if command -v "$ldconfig" >/dev/null 2>&1; then
    lib=$("$ldconfig" -p 2>/dev/null | awk '$1 == "libtcmalloc_minimal.so.4" { print $NF; exit }')
    if [ -n "$lib" ] && [ -f "$lib" ]; then
      echo "$lib"
      exit 0
    fi
  fi
done
exit 1
