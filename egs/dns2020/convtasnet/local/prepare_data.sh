#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <dns-dir> <data-dir>
#  e.g.: local/prepare_data.sh /data/DNS-Challenge/datasets data
# Makes <data-dir>/{train,train_noise,dev,test_no_reverb,test_with_reverb}/ from the DNS
# Challenge 2020 layout (local/prepare_dns.py: clean/, noise/, test_set/synthetic/).
# A test set with fewer than 150 pairs is a warning; a missing folder or pair an error.
# Skips the work when <data-dir> was already prepared with the same arguments.
# Options:
#   --dev-utts 200     clean files held out for the dev set
#   --dev-noises 100   noise files held out for the dev set
set -euo pipefail

dev_utts=200
dev_noises=100

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus data -- "$@"
prep_once "$data" "$(prep_corpus_stamp "$corpus") dev_utts=$dev_utts dev_noises=$dev_noises" \
  "$PYTHON" "$(dirname "$0")/prepare_dns.py" --dev-utts "$dev_utts" \
  --dev-noises "$dev_noises" "$corpus" "$data"
