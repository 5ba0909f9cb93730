#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <corpus-dir> <data-root>
#  e.g.: local/prepare_data.sh --nj 2 --seed 0 corpus data
#
# Synthesizes the mini corpus (local/make_corpus.py): single-speaker utterances of
# many synthetic base voices (espeak-ng language x variant, flite, festival), each
# with a random vocal-tract warp, pitch and rate, at 8 kHz; voice-disjoint and
# sentence-disjoint train/dev/test splits; 2-speaker mixtures (wsj0-2mix "min":
# relative level uniform in +-5 dB, cut to the shorter source). Writes
#   <corpus-dir>/{train,dev,test}/{src,mix,s1,s2}/*.wav, utts.tsv, mixtures.tsv, voices.tsv
#   <data-root>/{train,dev,test}/{wav.scp,spk1.scp,spk2.scp,utt2spk,utt2spks,utt2num_samples}
# Training draws new pairs on the fly from the sources of data/train (dynamic mixing).
# The same options give byte-identical audio. Skipped when <data-root> was prepared
# with the same options (utils/lib/corpus_prep.sh).
#
# Options:
#   --nj <2>               parallel synthesis jobs
#   --seed <0>             random seed (sentences, voices per utterance, warps, levels)
#   --train-utts <2000>    single-speaker training utterances (paired into mixtures)
#   --dev-mixtures <100>   dev mixtures (voices unseen in training)
#   --test-mixtures <250>  test mixtures (voices unseen in training and dev)
set -euo pipefail

nj=2
seed=0
train_utts=2000
dev_mixtures=100
test_mixtures=250

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus data -- "$@"
prep_need_programs "run tools/install.sh" sox espeak-ng flite festival
prep_once "$data" "seed=$seed train_utts=$train_utts dev_mixtures=$dev_mixtures \
test_mixtures=$test_mixtures" \
  "$PYTHON" "$(dirname "$0")/make_corpus.py" --nj "$nj" --seed "$seed" \
  --train-utts "$train_utts" --dev-mixtures "$dev_mixtures" --test-mixtures "$test_mixtures" \
  "$corpus" "$data"
