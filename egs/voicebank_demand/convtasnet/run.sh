#!/usr/bin/env bash
# Usage: ./run.sh --vbd-dir <VoiceBank+DEMAND folder> [options]
#  e.g.: ./run.sh --vbd-dir /data/VoiceBank-DEMAND --nj 8 --ngpu 1
#
# Speech enhancement on VoiceBank+DEMAND (Valentini-Botinhao et al. 2016), 28-speaker
# set: the published noisy/clean pairs, resampled once from 48 to 16 kHz at stage 1
# (into audio16k/). Speakers p226 and p287 are held out of training as the dev set;
# the test set is the 824 files of p232 and p257 (SNRs 2.5-17.5 dB). The model is
# compared with the input, RNNoise, spectral gating and the oracle ideal ratio mask,
# per test SNR (with the corpus's logfiles/). Stages: egs/TEMPLATE/sep.sh (0-7),
# egs/TEMPLATE/enh.sh (8-11).
#
# Corpus options (stage 1):
#   --vbd-dir <>           the folder holding clean_trainset_28spk_wav/ ... noisy_testset_wav/
#   --audio-dir audio16k   where the 16 kHz copies are written
set -euo pipefail

vbd_dir=
audio_dir=audio16k
score_opts="--metrics enhancement"
baselines="rnnoise spectral_gating"
compare_sets=test
compare_metrics=si_sdr,pesq,csig,cbak,covl

recipe_setup() {
  data=data
  tag_suffix=vbd
}

prepare_data() {
  require_option --vbd-dir "$vbd_dir" "the VoiceBank+DEMAND folder"
  local/prepare_data.sh "$vbd_dir" "$audio_dir" "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
. "$SEPCORE_ROOT/egs/TEMPLATE/enh.sh"
