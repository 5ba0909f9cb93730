#!/usr/bin/env bash
# Usage: steps/train.sh [options] <config> <train-data-dir> <valid-data-dir> <exp-dir> [-- <overrides>]
#  e.g.: steps/train.sh conf/train.yaml data/train data/dev exp/convtasnet -- --optim.lr 5e-4
#
# Trains a model with python -m sepcore.bin.train and writes <exp-dir> (DESIGN.md):
# config.yaml, train.log, history.tsv, checkpoints/{last,best}.pt, model.pt, .train.done.
# An interrupted run is resumed from checkpoints/last.pt; a finished one is skipped.
# Overrides after '--' are '--section.key value' pairs applied on top of <config>.
#
# Options:
#   --cmd <run.pl>       job runner (run.pl, slurm.pl, queue.pl): training is one job
#   --ngpu <0>           0: CPU; 1: one GPU; K > 1: K GPUs through torchrun (DDP); the job
#                        asks for K GPUs per node (--gpu K)
#   --nproc <1>          with --ngpu 0: P > 1 trains in P CPU processes through torchrun
#                        (DDP over gloo, one thread each; the job asks for P CPUs)
#   --num-nodes <1>      M > 1 (slurm.pl only): one job on M nodes; srun starts one torchrun
#                        per node with a c10d rendezvous on the job's first node
#                        (utils/slurm_torchrun.sh). With slurm.pl, several processes on one
#                        node are started the same way. The batch size is per process.
#   --resume <true>      continue from checkpoints/last.pt when present
#   --force <false>      retrain a finished exp: it is first moved to <exp-dir>.old.<time>
#   --tcmalloc <true>    preload tcmalloc when installed (utils/find_tcmalloc.sh): CPU
#                        training steps are ~1.6x faster than with glibc's malloc
set -euo pipefail

cmd=run.pl
ngpu=0
nproc=1
num_nodes=1
resume=true
force=false
tcmalloc=true

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/check_opts.sh"
require_int --ngpu "$ngpu" 0
require_int --nproc "$nproc" 1
require_int --num-nodes "$num_nodes" 1

if [ $# -lt 4 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
config=$1; train_dir=$2; valid_dir=$3; exp=$4; shift 4
[ "${1:-}" = "--" ] && shift
overrides=("$@")

[ -f "$config" ] || { echo "$0: config $config not found" >&2; exit 1; }
for d in "$train_dir" "$valid_dir"; do
  [ -f "$d/wav.scp" ] || { echo "$0: $d/wav.scp not found (expected a data dir)" >&2; exit 1; }
done

if [ -f "$exp/.train.done" ]; then
  if [ "$force" != true ]; then
    echo "$0: $exp is already trained ($exp/.train.done); skipping (--force true retrains)"
    exit 0
  fi
  old=$exp.old.$(date +%Y%m%d-%H%M%S)
  echo "$0: --force true: moving the finished $exp to $old"
  mv "$exp" "$old"
fi
# a trainer that runs here owns the exp dir (sepcore/train/lock.py, which decides): say so
# before the job runner starts a new log over its log/train.log
if [ -f "$exp/.train.lock" ] && lock=$(cat "$exp/.train.lock" 2>/dev/null) &&
   [[ $lock =~ host=([^ ]+)\ pid=([0-9]+)\ start=([0-9]+) ]] &&
   [ "${BASH_REMATCH[1]}" = "$(hostname)" ] && pid=${BASH_REMATCH[2]} &&
   [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)" = "${BASH_REMATCH[3]}" ]
then
  echo "$0: $exp is being trained by pid $pid on this host ($exp/.train.lock); stop it," \
    "or use another exp dir" >&2
  exit 1
fi
mkdir -p "$exp/log"

# processes per node; what the job asks for
procs=$([ "$ngpu" -gt 0 ] && echo "$ngpu" || echo "$nproc")
device=$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)
job_opts=(--gpu "$ngpu")
[ "$ngpu" -eq 0 ] && [ "$nproc" -gt 1 ] && job_opts+=(--num-threads "$nproc")
[ "$num_nodes" -gt 1 ] && job_opts+=(--num-nodes "$num_nodes")
on_slurm=$([ "$(basename "${cmd%% *}")" = slurm.pl ] && echo true || echo false)
if [ "$num_nodes" -gt 1 ] && [ "$on_slurm" != true ]; then
  echo "$0: --num-nodes $num_nodes needs --cmd slurm.pl (got '$cmd')" >&2
  exit 1
fi
if [ "$on_slurm" = true ] && [ $((procs * num_nodes)) -gt 1 ]; then
  launcher=("$(dirname "$0")/../utils/slurm_torchrun.sh" --nproc-per-node "$procs" -m sepcore.bin.train)
elif [ "$procs" -gt 1 ]; then
  launcher=(torchrun --standalone --nproc_per_node "$procs" -m sepcore.bin.train)
else
  launcher=(python -m sepcore.bin.train)
fi
[ "$device" = cpu ] && [ "$procs" -gt 1 ] && launcher=(env OMP_NUM_THREADS=1 "${launcher[@]}")

if [ "$tcmalloc" = true ] && lib=$("$(dirname "$0")/../utils/find_tcmalloc.sh"); then
  launcher=(env "LD_PRELOAD=$lib${LD_PRELOAD:+:$LD_PRELOAD}" "${launcher[@]}")
fi

echo "$0: training $exp (log: $exp/train.log)"
start=$(date +%s)
$cmd "${job_opts[@]}" "$exp/log/train.log" \
  "${launcher[@]}" --config "$config" --train-dir "$train_dir" --valid-dir "$valid_dir" \
    --exp-dir "$exp" --resume "$resume" --device "$device" "${overrides[@]}"
echo "$0: finished $exp in $(( $(date +%s) - start )) s: $(grep -o 'done: .*' "$exp/train.log" | tail -n 1)"
