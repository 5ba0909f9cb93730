#!/usr/bin/env bash
# Usage: steps/show_results.sh [--by snr|noise_type|mask_type --metrics si_sdr,pesq --input true]
#                               <exp-dir> [<exp-dir> ...]
#  e.g.: steps/show_results.sh exp/*
#        steps/show_results.sh --by snr --input true exp/rnnoise/separate/test exp/crn/separate/test
#
# Prints one Markdown table per data set comparing every scored experiment
# (<exp-dir>/separate/<set>/scores/summary.json, written by steps/score.sh): one row per
# experiment, columns = mean improvement and mean value of each metric (music metrics:
# median over tracks, averaged over sources). An argument may also be a separated dir.
# With --by: one column per metric of --metrics and per group of the data dir's utt2snr
# (or utt2noise_type, utt2mask_type), one row per experiment (--input true: and one for the input).
#
# Options:
#   --stems <false>   true (music): one per-stem table in the published layout of the
#                     separated dirs given as [LABEL=]DIR, scored on the same tracks, with
#                     the mixture as the reference first row, e.g.
#                     steps/show_results.sh --stems true "umx=exp/umx/separate/test" \
#                       "oracle IRM1=exp/oracle/separate/test"
set -euo pipefail

stems=false
by=
metrics=si_sdr,pesq
input=false

. "$(dirname "$0")/../utils/parse_options.sh"

if [ $# -lt 1 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi

opts=()
[ -n "$by" ] && opts=(--by "$by" --metrics "$metrics" --input "$input")
[ "$stems" = true ] && opts+=(--stems)
python -m sepcore.bin.show_results ${opts[@]+"${opts[@]}"} "$@"
