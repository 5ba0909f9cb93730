#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --wham-dir /data/wham_wav --task sep_clean
#
# ConvTasNet on WHAM! (Wichern et al. 2019).
# Published with conf/train.yaml (Asteroid, sep_clean 8k min): 16.2 dB SI-SDRi, 16.5 dB SDRi.
#
# Stage 1 (local/prepare_data.sh): <wham-dir> → data/<task>_<sample-rate>_<mode>/{tr,cv,tt};
# the other stages are those of every recipe (egs/TEMPLATE/sep.sh): training on tr,
# validation on cv, cv and tt separated and scored. <tag> defaults to
# <tag-prefix>[_<conf>]_<task>_<sample-rate>_<mode>, e.g. convtasnet_sep_clean_8k_min.
#
# Corpus options:
#   --wham-dir <dir>       the WHAM! folder holding wav8k/ and/or wav16k/ (stage 1)
#   --task sep_clean       sep_clean, sep_noisy, enh_single or enh_both
#   --sample-rate 8k       8k or 16k (the corpus' wav8k/ or wav16k/)
#   --mode min             min or max
set -euo pipefail

wham_dir=
task=sep_clean
sample_rate=8k
mode=min
train_set=tr
valid_set=cv
test_sets="cv tt"

recipe_setup() {
  check_choice --sample-rate "$sample_rate" 8k 16k
  check_choice --mode "$mode" min max
  data=data/${task}_${sample_rate}_${mode}
  tag_suffix=${task}_${sample_rate}_${mode}
  install_opts=(--system false)  # no system packages needed here
}

prepare_data() {
  require_option --wham-dir "$wham_dir" "the WHAM! folder holding wav8k/ or wav16k/"
  local/prepare_data.sh --task "$task" --sample-rate "$sample_rate" --mode "$mode" \
    "$wham_dir" "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
