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
. "$(dirname "$0")/../utils/lib/estimate_jobs.sh"
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
estimates_data "$data" "expected the clean speech references"

opts=(--method "$method")
[ "$force" = true ] && opts+=(--force)
estimates_run enhance_baseline "$method" "$data" "$out" "${opts[@]}"
