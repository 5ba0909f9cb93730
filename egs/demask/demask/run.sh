#!/usr/bin/env bash
# Usage: ./run.sh [options]
#  e.g.: ./run.sh                                   (every stage, the mini speech corpus)
#        ./run.sh --librispeech-dir /data/LibriSpeech   (LibriSpeech clean speech)
#        ./run.sh --conf conf/train_crn.yaml        (the CRN instead of DeMask)
#        ./run.sh --conf conf/tiny.yaml             (smoke test: seconds)
#
# Restoring speech muffled by a face mask (DeMask). Clean speech is filtered by one of
# the mask responses of conf/masks.yaml (surgical, KN95, N95, cotton and polyester
# fabrics, Corey et al. 2020), jittered per example, as a linear-phase FIR filter, plus
# white noise at a random level; the target is the unmasked speech. Training examples
# are made on the fly (data.dataset: masked); dev and test are fixed files whose mask
# type is in utt2mask_type, so scores are broken down per mask type (RESULTS.md,
# exp/<tag>/compare_test.md). Stages 0-7 are those of every recipe (egs/TEMPLATE/sep.sh),
# 8-11 those of every enhancement recipe (egs/TEMPLATE/enh.sh), per mask type.
#
# Corpus options (stage 1):
#   --librispeech-dir <>   LibriSpeech root (train-clean-360, dev-clean, test-clean);
#                          default: the mini corpus's synthetic voices, made here
#   --mask-types <all>     comma-separated names of conf/masks.yaml (default: all nine)
#   --seed 0               corpus seed
#   --train-utts 1500      clean training utterances (mini corpus)
#   --dev-utts 63          masked dev files (0: every utterance; LibriSpeech default 500)
#   --test-utts 180        masked test files (0: every utterance; LibriSpeech default 0)
#   --nj 2                 (this recipe's default; also the synthesis jobs)
set -euo pipefail

librispeech_dir=
mask_types=
seed=0
train_utts=1500
dev_utts=
test_utts=
nj=2
score_opts="--metrics si_sdr,pesq,stoi,estoi"
baselines="rnnoise spectral_gating"
compare_sets=test
compare_metrics=si_sdr,pesq
compare_by=mask_type

recipe_setup() {
  data=data
  if [ -n "$librispeech_dir" ]; then
    : "${dev_utts:=500}" "${test_utts:=0}"
    tag_suffix=librispeech
  else
    : "${dev_utts:=63}" "${test_utts:=180}"
  fi
}

prepare_data() {
  local/prepare_data.sh --nj "$nj" --seed "$seed" --masks conf/masks.yaml \
    --mask-types "$mask_types" --librispeech-dir "$librispeech_dir" \
    --train-utts "$train_utts" --dev-utts "$dev_utts" --test-utts "$test_utts" \
    corpus "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
. "$SEPCORE_ROOT/egs/TEMPLATE/enh.sh"
