#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --wsj0-3mix-dir /data/wsj0-mix/3speakers
#
# SuDoRM-RF (Tzinis et al. 2020, improved form) on wsj0-3mix (Isik et al. 2016).
# No published sepcore result with this config yet; see conf/train.yaml.
#
# The same stages and options as ../convtasnet/run.sh (./run.sh --help lists them), with
# SuDoRM-RF's defaults: --conf conf/train.yaml, tags starting with sudormrf.
set -euo pipefail
exec "$(dirname "$(readlink -f "$0")")/../convtasnet/run.sh" \
  --tag-prefix sudormrf --conf conf/train.yaml "$@"
