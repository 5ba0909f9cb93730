#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --librimix-dir /data/LibriMix/Libri2Mix --task sep_clean
#
# DPRNN-TasNet on LibriMix (Cosentino et al. 2020).
# No published result with exactly this config; see conf/*.yaml for the
# reference numbers (WHAM! sep_clean) of the same configuration.
#
# The same stages and options as ../convtasnet/run.sh (./run.sh --help lists them), with
# DPRNN's defaults: --conf conf/train_ks16.yaml, tags starting with dprnn. Options given
# here come after those defaults, so --conf conf/train_ks2.yaml selects the other config.
set -euo pipefail
exec "$(dirname "$(readlink -f "$0")")/../convtasnet/run.sh" \
  --tag-prefix dprnn --conf conf/train_ks16.yaml "$@"
