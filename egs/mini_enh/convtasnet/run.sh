#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh                      (stages 0-8: install, corpus, train, enhance, score)
#        ./run.sh --conf conf/tiny.yaml --tag tiny   (smoke test, seconds)
#
# Speech enhancement on a mini noisy-speech corpus made on this machine (no download):
# synthetic voices (espeak-ng, flite, festival) and generated noises, 16 kHz. Test voices
# and test noise types (blue, music, siren, rain) are never heard in training; the test
# set is on the SNR grid -5, 0, 5, 10, 15 dB. The model (ConvTasNet, one source) is
# compared with the unprocessed input, RNNoise, spectral gating and the oracle ideal
# ratio mask in one table per SNR (README.md: the figures).
#
# Stages (--stage N --stop-stage M runs N..M; a rerun skips finished work):
#   0  tools/install.sh
#   1  local/prepare_data.sh     synthesize corpus/ → data/{train,train_noise,dev,test}
#   2  utils/validate_data_dir.sh + utils/get_utt2num_samples.sh
#   3  steps/train.sh            conf + data/train (+ data/train_noise) + data/dev → exp/<tag>/
#   4  steps/separate.sh         → exp/<tag>/separate/{dev,test}/
#   5  steps/enhance_baseline.sh rnnoise, spectral_gating → exp/baselines/<method>/test/
#   6  steps/oracle.sh           ideal ratio mask → exp/baselines/oracle_irm/test/
#   7  steps/score.sh            every system on data/test → <dir>/scores/RESULTS.md
#   8  local/compare.py          the table: input, baselines, oracle, model, per SNR
#   9  steps/pack.sh             → exp/<tag>/<tag>.tar.gz
#
# Options:
#   --stage 0 --stop-stage 8
#   --nj 2                 parallel jobs (synthesis, lengths, separation, scoring)
#   --ngpu 0               GPUs for training (0: CPU) and separation (>0: cuda)
#   --tag <tag>            experiment name: exp/<tag> (default: convtasnet_<conf name>)
#   --conf <yaml>          training config (default conf/train.yaml; conf/tiny.yaml: smoke test)
#   --train-opts "<..>"    config overrides, e.g. "--training.max_epochs 10"
#   --seed 0               corpus seed (stage 1)
#   --train-utts 1500      clean training utterances (stage 1)
#   --train-noises 280     noise files of 6 s in the training pool (stage 1)
#   --dev-utts 70          dev mixtures (training noise types, unseen voices)
#   --test-per-snr 36      test mixtures per SNR (unseen voices, unseen noise types)
#   --force false          retrain a finished exp (steps/train.sh moves the old one aside)
set -euo pipefail

stage=0
stop_stage=8
nj=2
ngpu=0
tag=
conf=conf/train.yaml
train_opts=
seed=0
train_utts=1500
train_noises=280
dev_utts=70
test_per_snr=36
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
baselines="rnnoise spectral_gating"
metrics=si_sdr,pesq,stoi,estoi

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "$0: stage 0: tools/install.sh"
  "$SEPCORE_ROOT/tools/install.sh"
  . ./path.sh  # again: on a fresh clone the venv exists only now
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "$0: stage 1: synthesizing the corpus → corpus/, data/"
  local/prepare_data.sh --nj "$nj" --seed "$seed" --train-utts "$train_utts" \
    --train-noises "$train_noises" --dev-utts "$dev_utts" --test-per-snr "$test_per_snr" \
    corpus data
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "$0: stage 2: validate data dirs, lengths"
  for set in train dev test; do
    utils/get_utt2num_samples.sh --nj "$nj" --cmd "$train_cmd" data/$set
    utils/validate_data_dir.sh data/$set
  done
  utils/validate_data_dir.sh data/train_noise
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
    echo "$0: stage 4: enhancing data/$set"
    steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
      "$exp" data/$set "$exp/separate/$set"
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for method in $baselines; do
    echo "$0: stage 5: baseline $method on data/test"
    steps/enhance_baseline.sh --nj "$nj" --cmd "$decode_cmd" --method "$method" \
      data/test exp/baselines/$method/test
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  echo "$0: stage 6: oracle ideal ratio mask on data/test"
  steps/oracle.sh --nj "$nj" --cmd "$decode_cmd" data/test exp/baselines/oracle_irm/test
fi

systems="$(for m in $baselines oracle_irm; do echo exp/baselines/$m/test; done) $exp/separate/test"
if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  steps/score.sh --nj "$nj" --cmd "$decode_cmd" --metrics "$metrics" data/dev \
    "$exp/separate/dev" > /dev/null
  for dir in $systems; do
    echo "$0: stage 7: scoring $dir"
    steps/score.sh --nj "$nj" --cmd "$decode_cmd" --metrics "$metrics" data/test "$dir" \
      > /dev/null
  done
fi

if [ "$stage" -le 8 ] && [ "$stop_stage" -ge 8 ]; then
  echo "$0: stage 8: test set (unseen voices, unseen noise types) → $exp/compare_test.md"
  # shellcheck disable=SC2086
  python local/compare.py data/test input:$exp/separate/test rnnoise:exp/baselines/rnnoise/test \
    spectral_gating:exp/baselines/spectral_gating/test oracle_irm:exp/baselines/oracle_irm/test \
    "$tag:$exp/separate/test" > "$exp/compare_test.md"
  cat "$exp/compare_test.md"
fi

if [ "$stage" -le 9 ] && [ "$stop_stage" -ge 9 ]; then
  echo "$0: stage 9: packing"
  steps/pack.sh "$exp"
fi
echo "$0: done (stages $stage..$stop_stage)"
