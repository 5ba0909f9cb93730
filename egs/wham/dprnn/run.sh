#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --wham-dir /data/wham_wav --task sep_clean
#
# DPRNN-TasNet on WHAM! (Wichern et al. 2019).
# Published (Asteroid, sep_clean 8k min): conf/train_ks16.yaml 17.7 dB SI-SDRi (18.0 SDRi),
# conf/train_ks2.yaml (--conf conf/train_ks2.yaml) 19.3 dB SI-SDRi (19.5 SDRi).
#
# The same stages and options as ../convtasnet/run.sh (./run.sh --help lists them), with
# DPRNN's defaults: --conf conf/train_ks16.yaml, tags starting with dprnn. Options given
# here come after those defaults, so --conf conf/train_ks2.yaml selects the other config.
set -euo pipefail
exec "$(dirname "$(readlink -f "$0")")/../convtasnet/run.sh" \
  --tag-prefix dprnn --conf conf/train_ks16.yaml "$@"
