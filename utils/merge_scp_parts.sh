#!/usr/bin/env bash
# Usage: utils/merge_scp_parts.sh <separated-dir> <num-utts>
#
# Merges the per-job lists <separated-dir>/.parts/spk<n>.<job>.scp written by
# python -m sepcore.bin.separate or sepcore.bin.oracle into <separated-dir>/spk<n>.scp
# (one per name in <separated-dir>/sources, sorted), checking that each holds
# <num-utts> lines, then removes .parts/.
set -euo pipefail
if [ $# -ne 2 ]; then
  "$(dirname "$0")/usage.sh" "$0" >&2
  exit 1
fi
out=$1; num_utts=$2
[ -f "$out/sources" ] || { echo "$0: $out/sources not found (did every job fail?)" >&2; exit 1; }
num_sources=$(wc -w < "$out/sources")
for n in $(seq 1 "$num_sources"); do
  cat "$out/.parts/spk$n".*.scp 2>/dev/null | LC_ALL=C sort > "$out/spk$n.scp.tmp"
  got=$(wc -l < "$out/spk$n.scp.tmp")
  if [ "$got" -ne "$num_utts" ]; then
    echo "$0: $out/spk$n.scp.tmp has $got lines, expected $num_utts (some jobs failed?)" >&2
    exit 1
  fi
  mv "$out/spk$n.scp.tmp" "$out/spk$n.scp"
done
rm -rf "$out/.parts"
