#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh                      (stages 0-5: install, data, train, separate, score)
#        ./run.sh --stage 3 --conf conf/tiny.yaml --tag tiny
#
# ConvTasNet on a synthetic mini corpus made on this machine (no download): two-speaker
# mixtures of many espeak-ng / flite / festival voices, 8 kHz. Test voices are never
# heard in training. On 2 CPU cores stages 0-5 take about 20 minutes; see
# conf/train.yaml for the expected SI-SDR improvement.
#
# Stages (--stage N --stop-stage M runs N..M; a rerun skips finished work):
#   0  tools/install.sh (the Python environment; idempotent)
#   1  local/prepare_data.sh   synthesize corpus/ → data/{train,dev,test}
#   2  utils/validate_data_dir.sh + utils/get_utt2num_samples.sh on each set
#   3  steps/train.sh          conf + data/{train,dev} → exp/<tag>/
#   4  steps/separate.sh       exp/<tag> + data/{dev,test} → exp/<tag>/separate/{dev,test}/
#   5  steps/score.sh          → exp/<tag>/separate/{dev,test}/scores/RESULTS.md
#   6  steps/pack.sh           → exp/<tag>/<tag>.tar.gz
#
# Options:
#   --stage 0              first stage to run
#   --stop-stage 5         last stage to run
#   --nj 2                 parallel jobs (synthesis, lengths, separation, scoring)
#   --ngpu 0               GPUs for training (0: CPU) and separation (>0: cuda)
#   --tag <tag>            experiment name: exp/<tag> (default: convtasnet_<conf name>)
#   --conf <yaml>          training config (default conf/train.yaml; conf/tiny.yaml: smoke test)
#   --train-opts "<..>"    config overrides, e.g. "--training.max_minutes 5 --optim.lr 1e-3"
#   --seed 0               corpus seed (stage 1)
#   --train-utts 2000      training utterances to synthesize (stage 1)
#   --dev-mixtures 100     dev mixtures (stage 1)
#   --test-mixtures 250    test mixtures (stage 1)
#   --force false          retrain a finished exp (steps/train.sh moves the old one aside)
set -euo pipefail

stage=0
stop_stage=5
nj=2
ngpu=0
tag=
conf=conf/train.yaml
train_opts=
seed=0
train_utts=2000
dev_mixtures=100
test_mixtures=250
force=false

. ./cmd.sh
. ./path.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
  echo "$0: unexpected argument '$1' (see $0 --help)" >&2
  exit 1
fi
[ -f "$conf" ] || { echo "$0: config $conf not found" >&2; exit 1; }

tag=${tag:-convtasnet_$(basename "$conf" .yaml)}
exp=exp/$tag
read -r -a train_opts_a <<< "$train_opts"
device=$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "$0: stage 0: tools/install.sh"
  "$SEPCORE_ROOT/tools/install.sh"
  . ./path.sh  # again: on a fresh clone the venv exists only now
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "$0: stage 1: synthesizing the corpus → corpus/, data/"
  start=$(date +%s)
  local/prepare_data.sh --nj "$nj" --seed "$seed" --train-utts "$train_utts" \
    --dev-mixtures "$dev_mixtures" --test-mixtures "$test_mixtures" corpus data
  echo "$0: stage 1 took $(( $(date +%s) - start )) s"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "$0: stage 2: validate data dirs, lengths"
  for set in train dev test; do
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
  for set in dev test; do
    echo "$0: stage 4: separating data/$set"
    steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
      "$exp" data/$set "$exp/separate/$set"
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for set in dev test; do
    echo "$0: stage 5: scoring $exp/separate/$set"
    steps/score.sh --nj "$nj" --cmd "$decode_cmd" data/$set "$exp/separate/$set" > /dev/null
  done
  echo "$0: test set (voices unseen in training): $exp/separate/test/scores/RESULTS.md"
  cat "$exp/separate/test/scores/RESULTS.md"
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  echo "$0: stage 6: packing"
  steps/pack.sh "$exp"
fi
echo "$0: done (stages $stage..$stop_stage)"
