#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh --librimix-dir /data/LibriMix/Libri2Mix --task sep_clean
#
# ConvTasNet on LibriMix (Cosentino et al. 2020).
# Published with conf/train.yaml (Asteroid, Libri2Mix train-360 sep_clean 8k min):
# 14.7 dB SI-SDRi, 15.1 dB SDRi (train-100: 13.0 / 13.4).
#
# Stages (--stage N --stop-stage M runs N..M; a rerun skips finished work):
#   0  tools/install.sh (the Python environment; idempotent)
#   1  local/prepare_data.sh   <librimix-dir> → data/<name>/{train-360,dev,test}
#   2  utils/validate_data_dir.sh + utils/get_utt2num_samples.sh on each set
#   3  steps/train.sh          conf + data/<name>/{<train-set>,dev} → exp/<tag>/
#   4  steps/separate.sh       exp/<tag> + data/<name>/test → exp/<tag>/separate/test/
#   5  steps/score.sh          → exp/<tag>/separate/test/scores/RESULTS.md
#   6  steps/pack.sh           → exp/<tag>/<tag>.tar.gz
# <name> = libri<n-src>mix_<task>_<sample-rate>_<mode> (e.g. libri2mix_sep_clean_8k_min);
# <tag> defaults to <tag-prefix>[_<conf>]_<name> with the train set,
# <conf> = the --conf file name less 'train' and '.yaml' (e.g. ks2).
#
# Options:
#   --librimix-dir <dir>   the Libri2Mix/ (or Libri3Mix/) folder, or the folder holding
#                          it, with wav8k/ and/or wav16k/ (stage 1)
#   --n-src 2              2 (Libri2Mix) or 3 (Libri3Mix)
#   --task sep_clean       sep_clean, sep_noisy or enh_single
#   --train-set train-360  train-360 or train-100
#   --sample-rate 8k       8k or 16k (the corpus' wav8k/ or wav16k/)
#   --mode min             min or max
#   --stage 0              first stage to run
#   --stop-stage 6         last stage to run
#   --nj 4                 parallel jobs (lengths, separation, scoring)
#   --ngpu 0               GPUs for training (0: CPU; >1: DDP) and separation (>0: cuda)
#   --tag <tag>            experiment name: exp/<tag>
#   --tag-prefix convtasnet  first word of the default tag (../dprnn/run.sh passes dprnn)
#   --conf <yaml>          training config (default conf/train.yaml)
#   --train-opts "<..>"    config overrides, e.g. "--training.batch_size 4 --optim.lr 5e-4"
#   --separate-opts "<..>" extra options of steps/separate.sh, e.g. "--chunk-seconds 8"
#   --score-opts "<..>"    extra options of steps/score.sh, e.g. "--metrics si_sdr,sdr"
#   --force false          retrain a finished exp (steps/train.sh moves the old one aside)
set -euo pipefail

librimix_dir=
n_src=2
task=sep_clean
train_set=train-360
sample_rate=8k
mode=min
stage=0
stop_stage=6
nj=4
ngpu=0
tag=
tag_prefix=convtasnet
conf=conf/train.yaml
train_opts=
separate_opts=
score_opts=
force=false

. ./cmd.sh
. ./path.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
  echo "$0: unexpected argument '$1' (see $0 --help)" >&2
  exit 1
fi
case $sample_rate in
  8k) sr_hz=8000 ;;
  16k) sr_hz=16000 ;;
  *) echo "$0: --sample-rate must be 8k or 16k, got '$sample_rate'" >&2; exit 1 ;;
esac
case $mode in
  min|max) ;;
  *) echo "$0: --mode must be min or max, got '$mode'" >&2; exit 1 ;;
esac
case $train_set in
  train-360|train-100) ;;
  *) echo "$0: --train-set must be train-360 or train-100, got '$train_set'" >&2; exit 1 ;;
esac
[ -f "$conf" ] || { echo "$0: config $conf not found" >&2; exit 1; }
name=libri${n_src}mix_${task}_${sample_rate}_${mode}
data=data/$name
conf_name=$(basename "$conf" .yaml)
conf_name=${conf_name#train}
conf_name=${conf_name#_}  # conf/train.yaml: ""; conf/train_ks2.yaml: ks2; conf/my.yaml: my
tag=${tag:-${tag_prefix}${conf_name:+_$conf_name}_libri${n_src}mix_${task}_${train_set}_${sample_rate}_${mode}}
exp=exp/$tag
valid_set=dev
test_set=test
read -r -a train_opts_a <<< "$train_opts"
read -r -a separate_opts_a <<< "$separate_opts"
read -r -a score_opts_a <<< "$score_opts"
device=$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "$0: stage 0: tools/install.sh"
  "$SEPCORE_ROOT/tools/install.sh" --system false  # no system packages needed here
  . ./path.sh  # again: on a fresh clone the venv exists only now
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "$0: stage 1: data preparation → $data"
  if [ -z "$librimix_dir" ]; then
    echo "$0: stage 1 needs --librimix-dir <the Libri2Mix folder holding wav8k/ or wav16k/>" >&2
    exit 1
  fi
  local/prepare_data.sh --n-src "$n_src" --task "$task" --sample-rate "$sample_rate" \
    --mode "$mode" --sets "$train_set,dev,test" "$librimix_dir" "$data"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "$0: stage 2: validate data dirs, lengths"
  for set in $train_set $valid_set $test_set; do
    utils/get_utt2num_samples.sh --nj "$nj" --cmd "$train_cmd" "$data/$set"
    utils/validate_data_dir.sh "$data/$set"
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "$0: stage 3: training → $exp"
  steps/train.sh --cmd "$train_cmd" --ngpu "$ngpu" --force "$force" "$conf" \
    "$data/$train_set" "$data/$valid_set" "$exp" -- --data.sample_rate "$sr_hz" \
    ${train_opts_a[@]+"${train_opts_a[@]}"}
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "$0: stage 4: separating $data/$test_set"
  steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
    ${separate_opts_a[@]+"${separate_opts_a[@]}"} "$exp" "$data/$test_set" \
    "$exp/separate/$test_set"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  echo "$0: stage 5: scoring"
  steps/score.sh --nj "$nj" --cmd "$decode_cmd" ${score_opts_a[@]+"${score_opts_a[@]}"} \
    "$data/$test_set" "$exp/separate/$test_set"
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  echo "$0: stage 6: packing"
  steps/pack.sh "$exp"
fi
echo "$0: done (stages $stage..$stop_stage)"
