#!/usr/bin/env bash
# Usage: steps/show_results.sh <exp-dir> [<exp-dir> ...]
#  e.g.: steps/show_results.sh exp/*
#
# Prints one Markdown table per data set comparing every scored experiment
# (<exp-dir>/separate/<set>/scores/summary.json, written by steps/score.sh): one row per
# experiment, columns = mean improvement and mean value of each metric (music metrics:
# median over tracks, averaged over sources). An argument may also be a separated dir.
set -euo pipefail

. "$(dirname "$0")/../utils/parse_options.sh"

if [ $# -lt 1 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi

python -m sepcore.bin.show_results "$@"
