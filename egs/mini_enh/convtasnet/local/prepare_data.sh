#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <corpus-dir> <data-root>
#  e.g.: local/prepare_data.sh --nj 2 --seed 0 corpus data
#
# Synthesizes the mini noisy-speech corpus (local/make_corpus.py): clean utterances of
# the mini corpus's synthetic voices at 16 kHz (voice-disjoint train/dev/test), a
# training noise pool of 7 generated noise types, dev mixtures with those types and
# test mixtures with 4 held-out types, dev and test on the SNR grid -5..15 dB. Writes
#   <data-root>/train        wav.scp = spk1.scp (clean speech), utt2spk, sources
#   <data-root>/train_noise  wav.scp (noises), utt2noise_type
#   <data-root>/{dev,test}   wav.scp (noisy), spk1.scp, noise1.scp, utt2snr,
#                            utt2noise_type, utt2spk, utt2num_samples, sources (speech)
# The same options give byte-identical audio. Skipped when <data-root> was prepared
# with the same options (utils/lib/corpus_prep.sh).
#
# Options:
#   --nj <2>  --seed <0>  --train-utts <1500>  --train-noises <280>  --dev-utts <70>
#   --test-per-snr <36>
set -euo pipefail

nj=2
seed=0
train_utts=1500
train_noises=280
dev_utts=70
test_per_snr=36

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus data -- "$@"
prep_need_programs "run tools/install.sh" sox espeak-ng flite festival
prep_once "$data" "seed=$seed train_utts=$train_utts train_noises=$train_noises \
dev_utts=$dev_utts test_per_snr=$test_per_snr" \
  "$PYTHON" "$(dirname "$0")/make_corpus.py" --nj "$nj" --seed "$seed" \
  --train-utts "$train_utts" --train-noises "$train_noises" --dev-utts "$dev_utts" \
  --test-per-snr "$test_per_snr" "$corpus" "$data"
