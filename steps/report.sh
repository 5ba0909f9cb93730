#!/usr/bin/env bash
# Usage: steps/report.sh [options] <exp-dir>
#  e.g.: steps/report.sh exp/convtasnet
#
# Writes <exp-dir>/report/index.html through python -m sepcore.bin.report: the model card,
# the training curves (history.tsv), the examples saved during training (training.examples)
# and, for every scored set (separate/<set>/scores/), its RESULTS.md, histograms of the
# per-utterance improvements, per-stem (music) and per-SNR (utt2snr) tables and a listening
# table of the best, median and worst utterances with players and spectrograms.
# Self-contained and offline: the audio and images are copies beside index.html, so the
# folder opens from file:// or any static web server, and can be zipped and shared alone.
# A rebuilt report replaces the old one in one rename. Prints the path of index.html.
#
# Options:
#   --num-utts <3>         best, median and worst N utterances of each set
#   --max-seconds <10>     audio excerpts of at most this many seconds (0: whole utterances)
#   --audio-format <auto>  auto (flac up to 16 kHz mono, else ogg), wav, flac, ogg
#   --metric <>            per_utt.tsv column to rank by (default: si_sdr_i or the main metric)
set -euo pipefail

num_utts=3
max_seconds=10
audio_format=auto
metric=

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
require_int --num-utts "$num_utts" 1
require_number --max-seconds "$max_seconds" 0

if [ $# -ne 1 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
exp=$1
[ -d "$exp" ] || { echo "$0: $exp is not a folder (expected an exp dir)" >&2; exit 1; }

opts=(--num-utts "$num_utts" --max-seconds "$max_seconds" --audio-format "$audio_format")
[ -n "$metric" ] && opts+=(--metric "$metric")
python -m sepcore.bin.report "${opts[@]}" "$exp"
