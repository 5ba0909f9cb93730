#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --librimix-dir /data/LibriMix/Libri2Mix --task sep_clean
#
# SuDoRM-RF (Tzinis et al. 2020, improved form) on LibriMix (Cosentino et al. 2020).
# No published sepcore result with this config yet; see conf/train.yaml.
#
# The same stages and options as ../convtasnet/run.sh (./run.sh --help lists them), with
# SuDoRM-RF's defaults: --conf conf/train.yaml, tags starting with sudormrf.
set -euo pipefail
exec "$(dirname "$(readlink -f "$0")")/../convtasnet/run.sh" \
  --tag-prefix sudormrf --conf conf/train.yaml "$@"
