#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh                      (every stage: install, corpus, train, enhance, score,
#                                       baselines, oracle, the comparison table)
#        ./run.sh --conf conf/tiny.yaml   (smoke test: seconds)
#
# Speech enhancement on a mini noisy-speech corpus made on this machine (no download):
# synthetic voices (espeak-ng, flite, festival) and generated noises, 16 kHz. The test
# set's voices and noise types (blue, music, siren, rain) are never heard in training;
# it is on the SNR grid -5, 0, 5, 10, 15 dB. ConvTasNet with one source (the speech) is
# compared with the unprocessed input, RNNoise, spectral gating and the oracle ideal
# ratio mask, per SNR (exp/<tag>/compare_test.md; README.md: the figures).
#
# Stage 1 (local/prepare_data.sh) synthesizes corpus/ → data/{train,train_noise,dev,test};
# training mixes data/train's clean speech with data/train_noise on the fly (conf:
# data.dataset noisy). Stages 0-7 are those of every recipe (egs/TEMPLATE/sep.sh), 8-11
# those of every enhancement recipe (egs/TEMPLATE/enh.sh). <tag> defaults to
# convtasnet_<conf name> (e.g. convtasnet_tiny).
#
# Corpus options (stage 1):
#   --seed 0               corpus seed
#   --train-utts 1500      clean training utterances
#   --train-noises 280     noise files of 6 s in the training pool (7 types)
#   --dev-utts 70          dev mixtures (training noise types, unseen voices)
#   --test-per-snr 36      test mixtures per SNR (unseen voices, unseen noise types)
#   --nj 2                 (this recipe's default; also the synthesis jobs)
set -euo pipefail

seed=0
train_utts=1500
train_noises=280
dev_utts=70
test_per_snr=36
nj=2
score_opts="--metrics si_sdr,pesq,stoi,estoi,ssnr"  # csig/cbak/covl: see README
baselines="rnnoise spectral_gating"
compare_sets=test
compare_metrics=si_sdr,pesq

recipe_setup() {
  data=data
  tag=${tag:-convtasnet_$(basename "$conf" .yaml)}
}

prepare_data() {
  local/prepare_data.sh --nj "$nj" --seed "$seed" --train-utts "$train_utts" \
    --train-noises "$train_noises" --dev-utts "$dev_utts" --test-per-snr "$test_per_snr" \
    corpus "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
. "$SEPCORE_ROOT/egs/TEMPLATE/enh.sh"
