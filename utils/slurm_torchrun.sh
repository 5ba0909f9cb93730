#!/usr/bin/env bash
# Usage: utils/slurm_torchrun.sh [--nproc-per-node K] <torchrun arguments: -m module args...>
#  e.g.: slurm.pl --num-nodes 2 --gpu 4 exp/log/train.log \
#          utils/slurm_torchrun.sh --nproc-per-node 4 -m sepcore.bin.train --config ...
#
# Inside a Slurm job (steps/train.sh --cmd slurm.pl runs it): starts one torchrun per
# node of the job with srun, K processes each, which meet in a c10d rendezvous on the
# job's first node (port 29500 + job id mod 20000, rendezvous id = the job id). srun
# gives each launcher the job's CPUs per task and stops them all if one fails.
set -euo pipefail

nproc=1
if [ "${1:-}" = --nproc-per-node ]; then nproc=$2; shift 2; fi
case "${1:-}" in
  -h|--help|"") sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit ;;
esac
if [ -z "${SLURM_JOB_ID:-}" ] || [ -z "${SLURM_JOB_NODELIST:-}" ]; then
  echo "$0: not inside a Slurm job (SLURM_JOB_ID/SLURM_JOB_NODELIST unset); submit it with slurm.pl" >&2
  exit 1
fi
nodes=${SLURM_JOB_NUM_NODES:-1}
head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
port=$((29500 + SLURM_JOB_ID % 20000))
echo "$0: $nodes node(s) x $nproc process(es), rendezvous at $head:$port"
exec srun --kill-on-bad-exit=1 --nodes "$nodes" --ntasks "$nodes" --ntasks-per-node 1 \
  --cpus-per-task "${SLURM_CPUS_PER_TASK:-1}" \
  torchrun --nnodes "$nodes" --nproc_per_node "$nproc" --rdzv_backend c10d \
    --rdzv_endpoint "$head:$port" --rdzv_id "$SLURM_JOB_ID" "$@"
