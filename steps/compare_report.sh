#!/usr/bin/env bash
# Usage: steps/compare_report.sh [options] <exp-dir> <exp-dir> [<exp-dir> ...]
#  e.g.: steps/compare_report.sh exp/convtasnet exp/dprnn
#
# One offline HTML page for A/B listening, through python -m sepcore.bin.compare_report:
# for every data set scored by all the experiments, their results side by side, the
# per-utterance difference, and the utterances where they differ most (by SI-SDRi or the
# set's main metric) with the mixture, the references and every experiment's estimates,
# spectrograms of one utterance on one colour scale. Prints the path of index.html.
#
# Options:
#   --out-dir <>           report folder (default: <exp root>/compare_<tag1>-<tag2>...)
#   --num-utts <3>         show the 3*N utterances where they differ most
#   --max-seconds <10>     audio excerpts of at most this many seconds (0: whole utterances)
#   --audio-format <auto>  auto (flac up to 16 kHz mono, else ogg), wav, flac, ogg
#   --metric <>            per_utt.tsv column to compare by (default: si_sdr_i or main metric)
set -euo pipefail

out_dir=
num_utts=3
max_seconds=10
audio_format=auto
metric=

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
require_int --num-utts "$num_utts" 1
require_number --max-seconds "$max_seconds" 0

if [ $# -lt 2 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
for exp in "$@"; do
  [ -d "$exp" ] || { echo "$0: $exp is not a folder (expected an exp dir)" >&2; exit 1; }
done

opts=(--num-utts "$num_utts" --max-seconds "$max_seconds" --audio-format "$audio_format")
[ -n "$out_dir" ] && opts+=(--out-dir "$out_dir")
[ -n "$metric" ] && opts+=(--metric "$metric")
python -m sepcore.bin.compare_report "${opts[@]}" "$@"
