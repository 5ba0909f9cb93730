#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh                              (stages 0-7)
#        ./run.sh --stage 3 --conf conf/tiny.yaml --tag tiny
#
# Joint Open-Unmix on a mini music corpus rendered on this machine (no download): songs
# from seeded random MIDI, one fluidsynth render per stem (drums, bass, other, vocals),
# 44.1 kHz stereo, split by song. The test songs are never heard in training. See
# README.md for what it reaches and how long it takes.
#
# Stages (--stage N --stop-stage M runs N..M; a rerun skips finished work):
#   0  tools/install.sh (the Python environment, fluidsynth, the soundfont; idempotent)
#   1  local/prepare_data.sh   render corpus/ → data/{train,dev,test}
#   2  utils/validate_data_dir.sh + utils/get_utt2num_samples.sh on each set
#   3  steps/train.sh          conf + data/{train,dev} → exp/<tag>/
#   4  steps/separate.sh       data/{dev,test} → exp/<tag>/separate/<set> (the masks with the
#                              mixture's phase) and <set>_wiener (--wiener-iterations 1)
#   5  steps/oracle.sh         ideal ratio mask → exp/oracle_irm1/separate/<set>
#   6  steps/score.sh          every separated set (music metrics, stems in a fixed order);
#                              the per-stem table → exp/<tag>/RESULTS_<set>.md
#   7  steps/pack.sh           → exp/<tag>/<tag>.tar.gz
#
# Options:
#   --stage 0              first stage to run
#   --stop-stage 7         last stage to run
#   --nj 2                 parallel jobs (rendering, separation, oracle, scoring)
#   --ngpu 0               GPUs for training (0: CPU) and separation (>0: cuda)
#   --tag <tag>            experiment name: exp/<tag> (default: umx_<conf name>)
#   --conf <yaml>          training config (default conf/train.yaml; conf/tiny.yaml: smoke test)
#   --train-opts "<..>"    config overrides, e.g. "--training.max_epochs 3"
#   --seed 0               corpus seed (stage 1)
#   --songs 24,4,6         train,dev,test songs (stage 1)
#   --seconds 30           length of every song (stage 1)
#   --wiener-iterations 1  EM iterations of the multichannel Wiener filter (stage 4)
#   --force false          retrain a finished exp (steps/train.sh moves the old one aside)
set -euo pipefail

stage=0
stop_stage=7
nj=2
ngpu=0
tag=
conf=conf/train.yaml
train_opts=
seed=0
songs=24,4,6
seconds=30
wiener_iterations=1
force=false

. ./cmd.sh
. ./path.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
  echo "$0: unexpected argument '$1' (see $0 --help)" >&2
  exit 1
fi
[ -f "$conf" ] || { echo "$0: config $conf not found" >&2; exit 1; }

tag=${tag:-umx_$(basename "$conf" .yaml)}
exp=exp/$tag
oracle=exp/oracle_irm1
read -r -a train_opts_a <<< "$train_opts"
device=$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)
sets="dev test"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "$0: stage 0: tools/install.sh"
  "$SEPCORE_ROOT/tools/install.sh"
  . ./path.sh  # again: on a fresh clone the venv exists only now
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "$0: stage 1: rendering the corpus → corpus/, data/"
  start=$(date +%s)
  local/prepare_data.sh --nj "$nj" --seed "$seed" --songs "$songs" --seconds "$seconds" \
    corpus data
  echo "$0: stage 1 took $(( $(date +%s) - start )) s"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "$0: stage 2: validate data dirs, lengths"
  for set in train $sets; do
    utils/get_utt2num_samples.sh --nj "$nj" --cmd "$train_cmd" data/$set
    utils/validate_data_dir.sh data/$set
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "$0: stage 3: training → $exp"
  start=$(date +%s)
  steps/train.sh --cmd "$train_cmd" --ngpu "$ngpu" --force "$force" "$conf" \
    data/train data/dev "$exp" -- ${train_opts_a[@]+"${train_opts_a[@]}"}
  echo "$0: stage 3 took $(( $(date +%s) - start )) s"
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  start=$(date +%s)
  for set in $sets; do
    echo "$0: stage 4: separating data/$set (masks, then Wiener filter)"
    steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
      --wiener-iterations 0 "$exp" data/$set "$exp/separate/$set"
    steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
      --wiener-iterations "$wiener_iterations" "$exp" data/$set "$exp/separate/${set}_wiener"
  done
  echo "$0: stage 4 took $(( $(date +%s) - start )) s"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for set in $sets; do
    echo "$0: stage 5: ideal ratio mask of data/$set → $oracle/separate/$set"
    steps/oracle.sh --nj "$nj" --cmd "$decode_cmd" data/$set "$oracle/separate/$set"
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  start=$(date +%s)
  for set in $sets; do
    for dir in "$exp/separate/$set" "$exp/separate/${set}_wiener" "$oracle/separate/$set"; do
      echo "$0: stage 6: scoring $dir"
      steps/score.sh --nj "$nj" --cmd "$decode_cmd" --metrics music \
        --compute-permutation false data/$set "$dir" > /dev/null
    done
    steps/show_results.sh --stems true "$tag=$exp/separate/$set" \
      "$tag + Wiener ($wiener_iterations it.)=$exp/separate/${set}_wiener" \
      "oracle IRM1 (reference)=$oracle/separate/$set" > "$exp/RESULTS_$set.md"
  done
  echo "$0: stage 6 took $(( $(date +%s) - start )) s"
  echo "$0: test set (songs unseen in training): $exp/RESULTS_test.md"
  cat "$exp/RESULTS_test.md"
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  echo "$0: stage 7: packing"
  steps/pack.sh "$exp"
fi
echo "$0: done (stages $stage..$stop_stage)"
