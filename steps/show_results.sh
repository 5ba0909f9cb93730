#!/usr/bin/env bash
# Usage: steps/show_results.sh <exp-dir> [<exp-dir> ...]
#  e.g.: steps/show_results.sh exp/*
#
# Prints one Markdown table per data set comparing every scored experiment
# (<exp-dir>/separate/<set>/scores/summary.json, written by steps/score.sh): one row per
# experiment, columns = mean improvement and mean value of each metric (music metrics:
# median over tracks, averaged over sources). An argument may also be a separated dir.
#
# Options:
#   --stems <false>   true (music): one per-stem table in the published layout of the
#                     separated dirs given as [LABEL=]DIR, scored on the same tracks, with
#                     the mixture as the reference first row, e.g.
#                     steps/show_results.sh --stems true "umx=exp/umx/separate/test" \
#                       "oracle IRM1=exp/oracle/separate/test"
set -euo pipefail

stems=false

. "$(dirname "$0")/../utils/parse_options.sh"

if [ $# -lt 1 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi

opts=()
[ "$stems" = true ] && opts+=(--stems)
python -m sepcore.bin.show_results ${opts[@]+"${opts[@]}"} "$@"
