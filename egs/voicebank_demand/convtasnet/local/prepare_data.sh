#!/usr/bin/env bash
# Usage: local/prepare_data.sh <vbd-dir> <audio-dir> <data-dir>
#  e.g.: local/prepare_data.sh /data/VoiceBank-DEMAND audio16k data
# Resamples VoiceBank+DEMAND (28-speaker set) to 16 kHz into <audio-dir> and makes
# <data-dir>/{train,dev,test}/ (local/prepare_vbd.py; dev = speakers p226 and p287).
# A set with fewer files than published is a warning; a missing folder or pair an error.
# Skips the work when <data-dir> was already prepared from the same folders.
set -euo pipefail

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus audio data -- "$@"
prep_once "$data" "$(prep_corpus_stamp "$corpus") audio=$audio" \
  "$PYTHON" "$(dirname "$0")/prepare_vbd.py" "$corpus" "$audio" "$data"
