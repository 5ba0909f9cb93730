#!/usr/bin/env bash
# Usage: ./run.sh --dns-dir <DNS-Challenge/datasets> [options]
#  e.g.: ./run.sh --dns-dir /data/DNS-Challenge/datasets --nj 8 --ngpu 1
#
# Speech enhancement on the DNS Challenge, Interspeech 2020 (16 kHz): training mixtures
# made on the fly from its clean/ and noise/ folders (SNR 0-40 dB, level -35 to -15 dBFS,
# conf/train.yaml data.snr_range / data.target_level), a dev set held out of both and
# mixed once at stage 1, and the synthetic test sets test_set/synthetic/{no_reverb,
# with_reverb} (150 pairs each, paired by fileid_N). The model is compared with the
# input, RNNoise, spectral gating and the oracle ideal ratio mask on both test sets.
# Stages: egs/TEMPLATE/sep.sh (0-7), egs/TEMPLATE/enh.sh (8-11).
#
# Corpus options (stage 1):
#   --dns-dir <>           the datasets/ folder (clean/, noise/, test_set/)
#   --dev-utts 200         clean files held out for the dev set
#   --dev-noises 100       noise files held out for the dev set
set -euo pipefail

dns_dir=
dev_utts=200
dev_noises=100
test_sets="dev test_no_reverb test_with_reverb"
score_opts="--metrics enhancement"
baselines="rnnoise spectral_gating"
compare_sets=
compare_metrics=si_sdr,pesq,stoi

recipe_setup() {
  data=data
  tag_suffix=dns2020
}

prepare_data() {
  require_option --dns-dir "$dns_dir" "the DNS Challenge datasets/ folder"
  local/prepare_data.sh --dev-utts "$dev_utts" --dev-noises "$dev_noises" "$dns_dir" "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
. "$SEPCORE_ROOT/egs/TEMPLATE/enh.sh"
