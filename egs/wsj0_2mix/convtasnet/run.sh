#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --wsj0-2mix-dir /data/wsj0-mix/2speakers
#
# ConvTasNet on wsj0-2mix (Hershey et al. 2016).
# No published result with exactly this config; see conf/*.yaml for the
# reference numbers (WHAM! sep_clean) of the same configuration.
#
# Stage 1 (local/prepare_data.sh): <wsj0-2mix-dir> → data/<sample-rate>_<mode>/{tr,cv,tt};
# the other stages are those of every recipe (egs/TEMPLATE/sep.sh): training on tr,
# validation on cv, cv and tt separated and scored. <tag> defaults to
# <tag-prefix>[_<conf>]_<sample-rate>_<mode>, e.g. convtasnet_8k_min.
#
# Corpus options:
#   --wsj0-2mix-dir <dir>  the 2speakers/ folder of wsj0-2mix (or the folder
#                          holding it) with wav8k/ and/or wav16k/ (stage 1)
#   --sample-rate 8k       8k or 16k (the corpus' wav8k/ or wav16k/)
#   --mode min             min or max
set -euo pipefail

wsj0_2mix_dir=
sample_rate=8k
mode=min
train_set=tr
valid_set=cv
test_sets="cv tt"

recipe_setup() {
  check_choice --sample-rate "$sample_rate" 8k 16k
  check_choice --mode "$mode" min max
  data=data/${sample_rate}_${mode}
  tag_suffix=${sample_rate}_${mode}
  install_opts=(--system false)  # no system packages needed here
}

prepare_data() {
  require_option --wsj0-2mix-dir "$wsj0_2mix_dir" "the 2speakers folder of wsj0-2mix"
  local/prepare_data.sh --num-sources 2 --sample-rate "$sample_rate" --mode "$mode" \
    "$wsj0_2mix_dir" "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
