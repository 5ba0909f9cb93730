#!/usr/bin/env bash
# Usage: steps/separate.sh [options] <exp-dir> <data-dir> <out-dir>
#  e.g.: steps/separate.sh --nj 4 exp/convtasnet data/test exp/convtasnet/separate/test
#
# Separates every utterance of <data-dir>/wav.scp with <exp-dir>/model.pt (or a
# pack, or a model.pt given instead of <exp-dir>) through python -m sepcore.bin.separate.
# Writes <out-dir>/wav/<utt>_<source>.wav at the mixture's rate, length and sample
# format (scaled not to clip), <out-dir>/spk1.scp .. spkN.scp (same ids as the data
# dir, sorted) and <out-dir>/sources (the model's source names). Utterances up to
# 60 s are separated in one pass, longer ones in chunks with overlap-add (default
# window and hop from the model's receptive field). A rerun skips the utterances
# whose outputs all exist; <out-dir>/separate.json records the model and options,
# and a rerun with other ones into the same <out-dir> is refused (or --force).
#
# Options:
#   --nj <1>                  number of parallel jobs (utterance i goes to job i % nj + 1)
#   --cmd <run.pl>            job runner (run.pl, slurm.pl, queue.pl)
#   --device <cpu>            cpu or cuda
#   --chunk-seconds <>        chunk (window) length in seconds (default: from the model)
#   --hop-seconds <>          hop between chunks in seconds (default: from the model)
#   --whole-seconds <>        utterances up to this long are separated in one pass
#                             (default: 60, or 0 when --chunk-seconds is given)
#   --wiener-iterations <>    multichannel Wiener filter EM iterations for time-frequency
#                             models (umx); default: the model's (0: off)
#   --softmask <>             Wiener filter: start from the soft mask (true|false)
#   --residual <>             Wiener filter: add a "residual" source (true|false)
#   --postfilter <>           the post-filter of a one-source (enhancement) model
#                             (true|false); default: its config's postfilter.enabled
#   --shifts <1>              average the estimates of N inputs delayed by fractions of
#                             the model's frame hop (Demucs's shift trick; N times the work)
#   --num-threads <1>         torch CPU threads per job
#   --precision <fp32>        fp32 or bf16 (bfloat16 autocast where the CPU has native
#                             bfloat16, AMX or AVX-512 BF16; float32 with a warning elsewhere)
#   --force <false>           remove <out-dir>'s old outputs, then separate everything
set -euo pipefail

nj=1
cmd=run.pl
device=cpu
chunk_seconds=
hop_seconds=
whole_seconds=
wiener_iterations=
softmask=
residual=
postfilter=
shifts=1
num_threads=1
precision=fp32
force=false

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
. "$(dirname "$0")/../utils/lib/estimate_jobs.sh"
require_int --nj "$nj" 1
require_int --num-threads "$num_threads" 1
require_int --shifts "$shifts" 1
[ -z "$chunk_seconds" ] || require_positive --chunk-seconds "$chunk_seconds"
[ -z "$hop_seconds" ] || require_positive --hop-seconds "$hop_seconds"
[ -z "$whole_seconds" ] || require_number --whole-seconds "$whole_seconds" 0
[ -z "$wiener_iterations" ] || require_int --wiener-iterations "$wiener_iterations" 0
[ -z "$softmask" ] || require_bool --softmask "$softmask"
[ -z "$residual" ] || require_bool --residual "$residual"
[ -z "$postfilter" ] || require_bool --postfilter "$postfilter"

if [ $# -ne 3 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
exp=$1; data=$2; out=$3

[ -e "$exp" ] || { echo "$0: $exp not found (expected an exp dir, a pack or a model.pt)" >&2; exit 1; }
[ -f "$data/wav.scp" ] || { echo "$0: $data/wav.scp not found (expected a data dir)" >&2; exit 1; }
num_utts=$(wc -l < "$data/wav.scp")
[ "$num_utts" -ge 1 ] || { echo "$0: $data/wav.scp is empty" >&2; exit 1; }
[ "$nj" -le "$num_utts" ] || nj=$num_utts

opts=()
[ -n "$chunk_seconds" ] && opts+=(--chunk-seconds "$chunk_seconds")
[ -n "$hop_seconds" ] && opts+=(--hop-seconds "$hop_seconds")
[ -n "$whole_seconds" ] && opts+=(--whole-seconds "$whole_seconds")
[ -n "$wiener_iterations" ] && opts+=(--wiener-iterations "$wiener_iterations")
[ -n "$softmask" ] && opts+=(--softmask "$softmask")
[ -n "$residual" ] && opts+=(--residual "$residual")
[ -n "$postfilter" ] && opts+=(--postfilter "$postfilter")
opts+=(--shifts "$shifts" --precision "$precision" --force "$force")

if [ "$force" = true ]; then  # a killed forced run must not leave the old model's outputs
  rm -rf "$out/wav" "$out/scores" "$out/separate.json" "$out/sources" "$out"/spk*.scp
fi
estimates_run separate "$exp" "$data" "$out" --model "$exp" --device "$device" \
  --num-threads "$num_threads" "${opts[@]}"
