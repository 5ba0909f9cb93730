#!/usr/bin/env bash
# Usage: steps/oracle.sh [options] <data-dir> <out-dir>
#  e.g.: steps/oracle.sh --nj 4 data/test exp/oracle_irm1/separate/test
#
# Ideal ratio mask estimates of every utterance of <data-dir> (wav.scp + spkN.scp),
# written in the form steps/separate.sh writes: <out-dir>/wav/<utt>_<source>.wav,
# <out-dir>/spk1.scp .. spkN.scp, <out-dir>/sources (the data dir's names) and
# <out-dir>/oracle.json (the method). Score them with steps/score.sh <data-dir> <out-dir>.
# Mono or multichannel (masks per channel). A rerun skips utterances already done.
#
# Options:
#   --nj <1>            number of parallel jobs
#   --cmd <run.pl>      job runner (run.pl, slurm.pl, queue.pl)
#   --power <1>         1: IRM1 (magnitude ratio), 2: IRM2 (power ratio)
#   --n-fft <>          FFT size (default: the largest power of two within 93 ms: 4096 at 44.1 kHz)
#   --hop <>            hop (default: n_fft / 4)
#   --force <false>     recompute existing estimates
set -euo pipefail

nj=1
cmd=run.pl
power=1
n_fft=
hop=
force=false

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
. "$(dirname "$0")/../utils/lib/estimate_jobs.sh"
require_int --nj "$nj" 1
require_positive --power "$power"
[ -z "$n_fft" ] || require_int --n-fft "$n_fft" 2
[ -z "$hop" ] || require_int --hop "$hop" 1

if [ $# -ne 2 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
data=$1; out=$2

estimates_data "$data" "the oracle needs the references"

opts=(--power "$power")
[ -n "$n_fft" ] && opts+=(--n-fft "$n_fft")
[ -n "$hop" ] && opts+=(--hop "$hop")
opts+=(--force "$force")
estimates_run oracle "oracle (power $power)" "$data" "$out" "${opts[@]}"
