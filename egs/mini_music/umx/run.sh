#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh                              (every stage)
#        ./run.sh --stage 3 --conf conf/tiny.yaml --tag tiny
#
# Joint Open-Unmix on a mini music corpus rendered on this machine (no download): songs
# from seeded random MIDI, one fluidsynth render per stem (drums, bass, other, vocals),
# 44.1 kHz stereo, split by song; the test songs are never heard in training. README.md
# says what it reaches and how long it takes.
#
# Stage 1 (local/prepare_data.sh) renders corpus/ → data/{train,dev,test}; the other
# stages are those of every recipe (egs/TEMPLATE/sep.sh), with, for dev and test:
#   stage 4  exp/<tag>/separate/<set>          the masks with the mixture's phase
#            exp/<tag>/separate/<set>_wiener   the same model + multichannel Wiener filter
#            exp/oracle_irm1/separate/<set>    the ideal ratio mask (steps/oracle.sh)
#   stage 5  all three scored (music metrics, stems in a fixed order), and the per-stem
#            table with the mixture and the oracle as reference rows → exp/<tag>/RESULTS_<set>.md
# <tag> defaults to umx_<conf name> (umx_train, umx_tiny).
#
# Corpus options (stage 1):
#   --seed 0               corpus seed (tempo, key, progression, instruments, pans, levels)
#   --songs 24,4,6         train,dev,test songs
#   --seconds 30           length of every song
#   --nj 2                 (this recipe's default; also the rendering jobs)
# Separation options (stage 4):
#   --wiener-iterations 1  EM iterations of the Wiener filter for <set>_wiener
set -euo pipefail

seed=0
songs=24,4,6
seconds=30
nj=2
wiener_iterations=1
separate_opts="--wiener-iterations 0"
score_opts="--metrics music --compute-permutation false"

recipe_setup() {
  data=data
  tag=${tag:-umx_$(basename "$conf" .yaml)}
  oracle=exp/oracle_irm1
}

prepare_data() {
  local/prepare_data.sh --nj "$nj" --seed "$seed" --songs "$songs" --seconds "$seconds" \
    corpus "$data"
}

recipe_separate() {
  local set=$1
  steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
    --wiener-iterations "$wiener_iterations" "$exp" "$data/$set" "$exp/separate/${set}_wiener"
  steps/oracle.sh --nj "$nj" --cmd "$decode_cmd" "$data/$set" "$oracle/separate/$set"
}

recipe_score() {
  local set=$1 dir
  for dir in "$exp/separate/${set}_wiener" "$oracle/separate/$set"; do
    steps/score.sh --nj "$nj" --cmd "$decode_cmd" ${score_opts_a[@]+"${score_opts_a[@]}"} \
      "$data/$set" "$dir" > /dev/null
  done
  steps/show_results.sh --stems true "$tag=$exp/separate/$set" \
    "$tag + Wiener ($wiener_iterations it.)=$exp/separate/${set}_wiener" \
    "oracle IRM1 (reference)=$oracle/separate/$set" > "$exp/RESULTS_$set.md"
  echo "$0: $set (songs unseen in training): $exp/RESULTS_$set.md"
  cat "$exp/RESULTS_$set.md"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
