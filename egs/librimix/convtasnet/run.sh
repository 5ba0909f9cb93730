#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --librimix-dir /data/LibriMix/Libri2Mix --task sep_clean
#
# ConvTasNet on LibriMix (Cosentino et al. 2020).
# Published with conf/train.yaml (Asteroid, Libri2Mix train-360 sep_clean 8k min):
# 14.7 dB SI-SDRi, 15.1 dB SDRi (train-100: 13.0 / 13.4).
#
# Stage 1 (local/prepare_data.sh): <librimix-dir> → data/<name>/{<train-set>,dev,test},
# <name> = libri<n-src>mix_<task>_<sample-rate>_<mode> (e.g. libri2mix_sep_clean_8k_min);
# the other stages are those of every recipe (egs/TEMPLATE/sep.sh): training on
# <train-set>, validation on dev, dev and test separated and scored. <tag> defaults to
# <tag-prefix>[_<conf>]_libri<n-src>mix_<task>_<train-set>_<sample-rate>_<mode>.
#
# Corpus options:
#   --librimix-dir <dir>   the Libri2Mix/ (or Libri3Mix/) folder, or the folder holding
#                          it, with wav8k/ and/or wav16k/ (stage 1)
#   --n-src 2              2 (Libri2Mix) or 3 (Libri3Mix)
#   --task sep_clean       sep_clean, sep_noisy or enh_single
#   --train-set train-360  train-360 or train-100
#   --sample-rate 8k       8k or 16k (the corpus' wav8k/ or wav16k/)
#   --mode min             min or max
set -euo pipefail

librimix_dir=
n_src=2
task=sep_clean
sample_rate=8k
mode=min
train_set=train-360
valid_set=dev
test_sets="dev test"

recipe_setup() {
  check_choice --n-src "$n_src" 2 3
  check_choice --train-set "$train_set" train-360 train-100
  check_choice --sample-rate "$sample_rate" 8k 16k
  check_choice --mode "$mode" min max
  data=data/libri${n_src}mix_${task}_${sample_rate}_${mode}
  tag_suffix=libri${n_src}mix_${task}_${train_set}_${sample_rate}_${mode}
  install_opts=(--system false)  # no system packages needed here
}

prepare_data() {
  require_option --librimix-dir "$librimix_dir" \
    "the Libri2Mix folder holding wav8k/ or wav16k/"
  local/prepare_data.sh --num-sources "$n_src" --task "$task" --sample-rate "$sample_rate" \
    --mode "$mode" --sets "$train_set,dev,test" "$librimix_dir" "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
