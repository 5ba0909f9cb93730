#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --whamr-dir /data/whamr
#
# ConvTasNet on WHAMR! (Maciejewski et al. 2020).
# No published result with exactly this config; see conf/*.yaml for the
# reference numbers (WHAM! sep_clean) of the same configuration.
#
# Stage 1 (local/prepare_data.sh): <whamr-dir> → data/<task>_<sample-rate>_<mode>/{tr,cv,tt};
# the other stages are those of every recipe (egs/TEMPLATE/sep.sh): training on tr,
# validation on cv, cv and tt separated and scored. <tag> defaults to
# <tag-prefix>[_<conf>]_<task>_<sample-rate>_<mode>, e.g. convtasnet_sep_noisy_reverb_8k_min.
#
# Corpus options:
#   --whamr-dir <dir>      the WHAMR! folder holding wav8k/ and/or wav16k/ (stage 1)
#   --task <task>          default sep_noisy_reverb: sep_clean, sep_noisy, enh_single or
#                          enh_both + _anechoic or _reverb (the input); all tasks
#                          target the anechoic sources
#   --sample-rate 8k       8k or 16k (the corpus' wav8k/ or wav16k/)
#   --mode min             min or max
set -euo pipefail

whamr_dir=
task=sep_noisy_reverb
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
  require_option --whamr-dir "$whamr_dir" "the WHAMR! folder holding wav8k/ or wav16k/"
  local/prepare_data.sh --reverb true --task "$task" --sample-rate "$sample_rate" \
    --mode "$mode" "$whamr_dir" "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
