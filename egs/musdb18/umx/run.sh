#!/usr/bin/env bash
# Usage: ./run.sh --musdb-dir <dir> [options]
#  e.g.: ./run.sh --musdb-dir /data/musdb18hq                       (Open-Unmix umxhq)
#        ./run.sh --musdb-dir /data/musdb18 --conf conf/train_xumx.yaml   (X-UMX)
#
# Open-Unmix (Stöter et al. 2019) and X-UMX (Sawata et al. 2021) on MUSDB18-HQ or
# MUSDB18 (.stem.mp4, decoded once with ffmpeg). Sets: train (86 songs), valid (the
# official 14), test (50). Published median SDR (museval) in README.md.
#
# Stage 1 (local/prepare_data.sh) makes data/{train,valid,test}; the other stages are
# those of every recipe (egs/TEMPLATE/sep.sh), separating and scoring valid and test with
# the music metrics (stems in a fixed order), plus for each of them:
#   stage 4  exp/oracle_irm1/separate/<set>: the ideal ratio mask (steps/oracle.sh)
#   stage 5  its scores and the per-stem table of the model beside the mixture and the
#            oracle → exp/<tag>/RESULTS_<set>.md
# Separation uses the model's Wiener filter defaults (umx: one EM iteration); e.g.
# --separate-opts "--wiener-iterations 0" separates with the masks alone.
# <tag>: umx (conf/train.yaml), umx_xumx (conf/train_xumx.yaml); ../demucs/run.sh: demucs.
#
# Corpus options (stage 1):
#   --musdb-dir <dir>      MUSDB18-HQ ({train,test}/<song>/*.wav) or MUSDB18 ({train,test}/*.stem.mp4)
#   --format auto          auto, hq or stems
#   --decoded-dir <dir>    where .stem.mp4 files are decoded (default: musdb18_wav)
set -euo pipefail

musdb_dir=
format=auto
decoded_dir=musdb18_wav
valid_set=valid
score_opts="--metrics music --compute-permutation false"

recipe_setup() {
  check_choice --format "$format" auto hq stems
  data=data
  oracle=exp/oracle_irm1
}

prepare_data() {
  require_option --musdb-dir "$musdb_dir" "the MUSDB18 or MUSDB18-HQ folder"
  local/prepare_data.sh --format "$format" --decoded-dir "$decoded_dir" --nj "$nj" \
    "$musdb_dir" "$data"
}

recipe_separate() {
  steps/oracle.sh --nj "$nj" --cmd "$decode_cmd" "$data/$1" "$oracle/separate/$1"
}

recipe_score() {
  local set=$1
  steps/score.sh --nj "$nj" --cmd "$decode_cmd" ${score_opts_a[@]+"${score_opts_a[@]}"} \
    "$data/$set" "$oracle/separate/$set" > /dev/null
  steps/show_results.sh --stems true "$tag=$exp/separate/$set" \
    "oracle IRM1 (reference)=$oracle/separate/$set" > "$exp/RESULTS_$set.md"
  echo "$0: $exp/RESULTS_$set.md"
  cat "$exp/RESULTS_$set.md"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
