#!/usr/bin/env bash
# Usage: ./run.sh --musdb-dir <dir> [options]
#  e.g.: ./run.sh --musdb-dir /data/musdb18hq
#
# Demucs (v2), a waveform U-Net (Défossez et al. 2019/2021), on MUSDB18-HQ or MUSDB18.
#
# The same stages and options as ../umx/run.sh (./run.sh --help lists them), with Demucs's
# defaults: --conf conf/train.yaml (full size; conf/train_small.yaml trains on a CPU),
# tags starting with demucs. Options given here come after those defaults.
set -euo pipefail
exec "$(dirname "$(readlink -f "$0")")/../umx/run.sh" \
  --tag-prefix demucs --conf conf/train.yaml "$@"
