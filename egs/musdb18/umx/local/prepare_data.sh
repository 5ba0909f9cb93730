#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <musdb-dir> <data-root>
#  e.g.: local/prepare_data.sh /data/musdb18hq data
#        local/prepare_data.sh --decoded-dir musdb18_wav /data/musdb18 data
#
# Makes <data-root>/{train,valid,test}/ (wav.scp, spk1..4.scp, sources = drums bass other
# vocals, utt2num_samples) from MUSDB18-HQ (<musdb-dir>/{train,test}/<Artist - Title>/
# {mixture,drums,bass,other,vocals}.wav) or MUSDB18 (<musdb-dir>/{train,test}/
# <Artist - Title>.stem.mp4, decoded once with ffmpeg into --decoded-dir). valid is the
# official 14-song validation subset of train (86 songs left), test the 50 test songs.
# A partial corpus is a warning, a missing folder or a faulty song an error naming the
# file. Skipped when <data-root> was prepared with the same arguments.
#
# Options:
#   --format auto           auto, hq (MUSDB18-HQ wav folders) or stems (.stem.mp4)
#   --decoded-dir <dir>     where .stem.mp4 files are decoded (default <data-root>/../musdb18_wav)
#   --nj 2                  parallel checks / decodes
set -euo pipefail

format=auto
decoded_dir=
nj=2

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus data -- "$@"
decoded_dir=${decoded_dir:-$(dirname "$data")/musdb18_wav}
prep_once "$data" "$(prep_corpus_stamp "$corpus") format=$format decoded=$decoded_dir" \
  "$PYTHON" "$(dirname "$0")/prepare_musdb18.py" --format "$format" \
  --decoded-dir "$decoded_dir" --nj "$nj" "$corpus" "$data"
