#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <target-dir> <interference-dir> <corpus-dir> <data-root>
#  e.g.: local/prepare_data.sh --target-name speech --interference-name music \
#          example/speech example/music corpus data
#
# Decodes, mixes down and resamples every audio file under the two folders, splits each
# folder by file into train/dev/test and writes the data dirs (local/make_data.py:
# data/train, data/train_interference, data/{dev,test}, data/names). Skipped when
# <data-root> was prepared with the same options and folders (utils/lib/corpus_prep.sh).
#
# Options:
#   --target-name <>  --interference-name <>  (required)  --sample-rate 16000
#   --dev-fraction 0.1  --test-fraction 0.1  --snr-min -5  --snr-max 10  --max-seconds 10
#   --seed 0
set -euo pipefail

target_name=
interference_name=
sample_rate=16000
dev_fraction=0.1
test_fraction=0.1
snr_min=-5
snr_max=10
max_seconds=10
seed=0

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args target_dir interference_dir corpus data -- "$@"
for d in "$target_dir" "$interference_dir"; do
  [ -d "$d" ] || { echo "$0: $d: no such folder" >&2; exit 1; }
done
prep_once "$data" "target=$(readlink -f "$target_dir") \
interference=$(readlink -f "$interference_dir") names=$target_name:$interference_name \
rate=$sample_rate dev=$dev_fraction test=$test_fraction snr=$snr_min:$snr_max \
max_seconds=$max_seconds seed=$seed" \
  "$PYTHON" "$(dirname "$0")/make_data.py" --target-name "$target_name" \
  --interference-name "$interference_name" --sample-rate "$sample_rate" \
  --dev-fraction "$dev_fraction" --test-fraction "$test_fraction" \
  --snr-range "$snr_min" "$snr_max" --max-seconds "$max_seconds" --seed "$seed" \
  "$target_dir" "$interference_dir" "$corpus" "$data"
