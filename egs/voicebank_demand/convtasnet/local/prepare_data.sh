#!/usr/bin/env bash
# Usage: local/prepare_data.sh <vbd-dir> <audio-dir> <data-dir>
#  e.g.: local/prepare_data.sh /data/VoiceBank-DEMAND audio16k data
# Resamples VoiceBank+DEMAND (28-speaker set) to 16 kHz into <audio-dir> and makes
# <data-dir>/{train,dev,test}/ (local/prepare_vbd.py; dev = speakers p226 and p287).
# A set with fewer files than published is a warning; a missing folder or pair an error.
# Skips the work when <data-dir> was already prepared from the same folders.
set -euo pipefail

[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  echo "$0: expected 3 arguments, got $# (see $0 --help)" >&2
  exit 1
fi
corpus=$1
audio=$2
data=$3
stamp="corpus=$(cd "$corpus" 2>/dev/null && pwd || echo "$corpus") audio=$audio"
utils/run_once.sh "$data/.prepare_data.done" "$stamp" \
  python "$(dirname "$0")/prepare_vbd.py" "$corpus" "$audio" "$data"
echo "$0: done: $data"
