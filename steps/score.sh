#!/usr/bin/env bash
# Usage: steps/score.sh [options] <ref-data-dir> <separated-dir>
#  e.g.: steps/score.sh --nj 4 data/tt exp/convtasnet/separate/tt
#
# Scores the estimates in <separated-dir>/spkN.scp against the references of <ref-data-dir>
# (spkN.scp) and the mixture (wav.scp) in --nj parallel jobs, then merges them into
# <separated-dir>/scores/{per_utt.tsv,summary.json,RESULTS.md} (and prints RESULTS.md).
# Per utterance: the best permutation of estimates (highest mean SI-SDR), each metric of
# the estimates, of the unprocessed mixture (input_*) and the improvement (*_i).
# The mixture's scores are cached in <ref-data-dir>/scores/ and reused by later experiments.
# A killed run, rerun, recomputes only the missing utterances; a finished one is skipped.
# Job logs: <separated-dir>/scores/log/score.JOB.log.
#
# Options:
#   --nj <1>                        number of parallel jobs (one core each)
#   --cmd <run.pl>                  job runner (run.pl, slurm.pl, queue.pl)
#   --metrics <default>             comma-separated: si_sdr sdr sir sar stoi estoi pesq
#                                   sdr_v4 isr_v4 sir_v4 sar_v4 sdr_mdx, or a set: default
#                                   (si_sdr,sdr,sir,sar,stoi,pesq), speech (+estoi), music
#   --allow-length-mismatch <false> trim to the shorter signal instead of failing (counted)
#   --compute-permutation <true>    false: estimate spkN is scored against reference spkN
#                                   (named stems, e.g. music)
#   --use-cache <true>              reuse/store the mixture's scores in <ref-data-dir>/scores
set -euo pipefail

nj=1
cmd=run.pl
metrics=default
allow_length_mismatch=false
compute_permutation=true
use_cache=true

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
require_int --nj "$nj" 1

if [ $# -ne 2 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
data=$1; dir=$2

[ -f "$data/wav.scp" ] || { echo "$0: $data/wav.scp not found (expected a data dir)" >&2; exit 1; }
[ -f "$dir/spk1.scp" ] || { echo "$0: $dir/spk1.scp not found (expected separated estimates)" >&2; exit 1; }

opts=(--metrics "$metrics" --allow-length-mismatch "$allow_length_mismatch"
      --compute-permutation "$compute_permutation" --use-cache "$use_cache")

# one thread per job, so that --nj N uses N cores
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

mkdir -p "$dir/scores/log"
echo "$0: scoring $dir against $data with $nj jobs (logs: $dir/scores/log/score.*.log)"
start=$(date +%s)
$cmd --num-threads 1 JOB=1:"$nj" "$dir/scores/log/score.JOB.log" \
  python -m sepcore.bin.score --job JOB --num-jobs "$nj" --progress true "${opts[@]}" "$data" "$dir"
python -m sepcore.bin.score --merge "${opts[@]}" "$data" "$dir"
echo "$0: scored $dir in $(( $(date +%s) - start )) s: $dir/scores/RESULTS.md"
