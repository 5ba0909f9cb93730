# Usage: . ./cmd.sh   (sourced by run.sh)
# Job runners, Kaldi style: run.pl runs the jobs on this machine; on a cluster use e.g.
#   train_cmd="slurm.pl --mem 16G"   decode_cmd="slurm.pl --mem 4G"   (or queue.pl)
# shellcheck disable=SC2034
train_cmd="run.pl"
decode_cmd="run.pl"
