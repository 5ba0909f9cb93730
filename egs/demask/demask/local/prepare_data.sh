#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <corpus-dir> <data-root>
#  e.g.: local/prepare_data.sh --nj 2 --seed 0 corpus data
#        local/prepare_data.sh --librispeech-dir /data/LibriSpeech corpus data
#
# Writes <data-root>/train (clean speech: the mini corpus's synthetic voices at 16 kHz, or
# LibriSpeech train-clean-360) and the fixed masked <data-root>/{dev,test} (utt2mask_type,
# utt2snr) with local/make_data.py. Skipped when <data-root> was prepared with the same
# options and masks file (utils/lib/corpus_prep.sh).
#
# Options:
#   --masks conf/masks.yaml  --mask-types <all>  --librispeech-dir <>  --nj 2  --seed 0
#   --train-utts 1500  --dev-utts 63  --test-utts 180  --jitter-db 1.5  --fir-ms 32
#   --snr-min 10  --snr-max 40
set -euo pipefail

masks=conf/masks.yaml
mask_types=
librispeech_dir=
nj=2
seed=0
train_utts=1500
dev_utts=63
test_utts=180
jitter_db=1.5
fir_ms=32
snr_min=10
snr_max=40

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus data -- "$@"
[ -f "$masks" ] || { echo "$0: --masks $masks: file not found" >&2; exit 1; }
[ -n "$librispeech_dir" ] || prep_need_programs "run tools/install.sh" sox espeak-ng flite festival
prep_once "$data" "masks=$(cksum < "$masks" | cut -d' ' -f1) mask_types=$mask_types \
librispeech_dir=$librispeech_dir seed=$seed train_utts=$train_utts dev_utts=$dev_utts \
test_utts=$test_utts jitter_db=$jitter_db fir_ms=$fir_ms snr=$snr_min:$snr_max" \
  "$PYTHON" "$(dirname "$0")/make_data.py" --masks "$masks" ${mask_types:+--mask-types "$mask_types"} \
  ${librispeech_dir:+--librispeech-dir "$librispeech_dir"} --nj "$nj" --seed "$seed" \
  --train-utts "$train_utts" --dev-utts "$dev_utts" --test-utts "$test_utts" \
  --jitter-db "$jitter_db" --fir-ms "$fir_ms" --snr-range "$snr_min" "$snr_max" \
  "$corpus" "$data"
