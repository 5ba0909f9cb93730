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
require_int --nj "$nj" 1
require_positive --power "$power"
[ -z "$n_fft" ] || require_int --n-fft "$n_fft" 2
[ -z "$hop" ] || require_int --hop "$hop" 1

if [ $# -ne 2 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
data=$1; out=$2

[ -f "$data/wav.scp" ] || { echo "$0: $data/wav.scp not found (expected a data dir)" >&2; exit 1; }
[ -f "$data/spk1.scp" ] || { echo "$0: $data/spk1.scp not found (the oracle needs the references)" >&2; exit 1; }
num_utts=$(wc -l < "$data/wav.scp")
[ "$num_utts" -ge 1 ] || { echo "$0: $data/wav.scp is empty" >&2; exit 1; }
[ "$nj" -le "$num_utts" ] || nj=$num_utts

opts=(--power "$power")
[ -n "$n_fft" ] && opts+=(--n-fft "$n_fft")
[ -n "$hop" ] && opts+=(--hop "$hop")
opts+=(--force "$force")

mkdir -p "$out/log"
rm -rf "$out/.parts"
echo "$0: oracle (power $power) estimates of $num_utts utterances of $data into $out ($nj jobs)"
$cmd JOB=1:"$nj" "$out/log/oracle.JOB.log" \
  python -m sepcore.bin.oracle --data-dir "$data" --out-dir "$out" \
    --job JOB --num-jobs "$nj" "${opts[@]}" ||
  { echo "$0: oracle failed; see $out/log/oracle.*.log" >&2; exit 1; }

"$(dirname "$0")/../utils/merge_scp_parts.sh" "$out" "$num_utts"
echo "$0: wrote $out/spk{1..$(wc -w < "$out/sources")}.scp and $out/sources ($(cat "$out/sources"))"
