#!/usr/bin/env bash
# Usage: steps/enhance_baseline.sh --method rnnoise|spectral_gating [options] <data-dir> <out-dir>
#  e.g.: steps/enhance_baseline.sh --method rnnoise --nj 4 data/test exp/rnnoise/separate/test
#
# Enhances every utterance of <data-dir>/wav.scp with a baseline and writes the estimates
# in the form steps/separate.sh writes: <out-dir>/wav/<utt>_<source>.wav (the mixture's
# rate, length and sample format), <out-dir>/spk1.scp (the speech; with a spk2.scp in the
# data dir also spk2.scp, the residual mixture minus speech), <out-dir>/sources and
# <out-dir>/baseline.json (the method). Score them with steps/score.sh <data-dir> <out-dir>.
#   rnnoise          RNNoise (pyrnnoise: pip install pyrnnoise), at 48 kHz, resampled
#   spectral_gating  non-stationary spectral gating (noisereduce: pip install noisereduce)
# A rerun skips utterances already done.
#
# Options:
#   --method <>         rnnoise or spectral_gating (required)
#   --nj <1>            number of parallel jobs
#   --cmd <run.pl>      job runner (run.pl, slurm.pl, queue.pl)
#   --force <false>     recompute existing estimates
set -euo pipefail

method=
nj=1
cmd=run.pl
force=false

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
require_int --nj "$nj" 1

if [ $# -ne 2 ] || [ -z "$method" ]; then
  awk '/^# Usage:/{on=1} on && !/^#/{exit} on{sub(/^# ?/, ""); print}' "$0" >&2
  exit 1
fi
data=$1; out=$2

case "$method" in
  rnnoise|spectral_gating) ;;
  *) echo "$0: --method must be rnnoise or spectral_gating, got '$method'" >&2; exit 1 ;;
esac
[ -f "$data/wav.scp" ] || { echo "$0: $data/wav.scp not found (expected a data dir)" >&2; exit 1; }
[ -f "$data/spk1.scp" ] || { echo "$0: $data/spk1.scp not found (expected the clean speech references)" >&2; exit 1; }
num_utts=$(wc -l < "$data/wav.scp")
[ "$num_utts" -ge 1 ] || { echo "$0: $data/wav.scp is empty" >&2; exit 1; }
[ "$nj" -le "$num_utts" ] || nj=$num_utts

opts=(--method "$method")
[ "$force" = true ] && opts+=(--force)

mkdir -p "$out/log"
rm -rf "$out/.parts"
echo "$0: $method estimates of $num_utts utterances of $data into $out ($nj jobs)"
$cmd JOB=1:"$nj" "$out/log/enhance_baseline.JOB.log" \
  python -m sepcore.bin.enhance_baseline --data-dir "$data" --out-dir "$out" \
    --job JOB --num-jobs "$nj" "${opts[@]}" ||
  { echo "$0: $method failed; see $out/log/enhance_baseline.*.log" >&2; exit 1; }

"$(dirname "$0")/../utils/merge_scp_parts.sh" "$out" "$num_utts"
echo "$0: wrote $out/spk{1..$(wc -w < "$out/sources")}.scp and $out/sources ($(cat "$out/sources"))"
