#!/usr/bin/env perl
# Usage: slurm.pl [options] [JOB=1:N] <log-file> <command> [args...]
#  e.g.: slurm.pl --gpu 1 --mem 8G JOB=1:4 exp/log/separate.JOB.log \
#          python -m sepcore.bin.separate --job JOB --num-jobs 4 ...
#
# The same interface as run.pl, on a Slurm cluster: writes a job script
# <log-dir>/q/<name>.sh (one task per job id), submits it with
# 'sbatch --array=1-N', waits until every task has written its done marker, and
# exits 1 with 'slurm.pl: K / N failed, log is in ...' (and the failed tasks'
# logs) if any job failed. Tasks that leave squeue without a marker (time or memory
# limit, node failure, scancel) count as failed, with the state and reason that
# sacct (or, without accounting, scontrol) gives. SIGINT/SIGTERM/SIGHUP cancel the
# job (scancel); killed outright (SIGKILL, host lost), its tasks stop themselves once
# the heartbeat file it touches has not changed for SEPCORE_QUEUE_ORPHAN_TIMEOUT s. The
# job runs in the current directory with the submitting
# environment (and sources ./path.sh if there is one).
#
# Options:
#   --max-jobs-run N   at most N tasks at a time (--array=1-N%K)
#   --gpu G            --gres=gpu:G            (0: nothing)
#   --mem M            --mem=M                 (e.g. 4G)
#   --num-threads T    --cpus-per-task=T
#   --num-nodes M      --nodes=M --ntasks-per-node=1 (1: nothing); the command runs
#                      on the first node and starts work on all of them with srun
#   --time T           --time=T                (e.g. 4:00:00; Slurm counts whole minutes)
#   --config F         a Kaldi-style config replacing the built-in one (conf/slurm.conf):
#                      'command sbatch ...', 'option name=* args with $0',
#                      'option name=value args', 'default name=value'
#
# Environment: SEPCORE_QUEUE_CHECK_INTERVAL (default 60 s between squeue calls),
# SEPCORE_QUEUE_GRACE (default 30 s a job may be gone before its markers appear),
# SEPCORE_QUEUE_HEARTBEAT (default 10 s between touches of <log-dir>/q/<name>.<pid>.alive),
# SEPCORE_QUEUE_ORPHAN_TIMEOUT (default 600 s without a touch before a task stops).

use strict;
use warnings;
use FindBin qw($RealBin);
use lib "$RealBin/lib";
use SepcoreJobs;

my $default_config = <<'EOF';
command sbatch --export=ALL --parsable
option gpu=0
option gpu=* --gres=gpu:$0
option mem=0
option mem=* --mem=$0
option num_threads=* --cpus-per-task=$0
option num_nodes=1
option num_nodes=* --nodes=$0 --ntasks-per-node=1
option time=* --time=$0
EOF

SepcoreJobs::run_cluster(
  prog => 'slurm.pl',
  default_config => $default_config,
  task_var => 'SLURM_ARRAY_TASK_ID',
  submit_args => sub {
    my ($job, $base, $qdir, $out) = @_;
    my $array = "$job->{start}-$job->{end}";
    $array .= "%$job->{opts}{max_jobs_run}" if defined $job->{opts}{max_jobs_run};
    return ("--array=$array", "--job-name=$base", "--output=$out", "--open-mode=append");
  },
  parse_id => sub {
    my ($output) = @_;
    return $output =~ /^\s*(\d+)/m ? $1 : undef;
  },
  cancel_cmd => sub { my ($id) = @_; return ('scancel', $id); },
  status_cmd => sub { my ($id) = @_; return ('squeue', '-h', '-j', $id); },
  explain => sub {
    my ($id, $task) = @_;
    my $out = SepcoreJobs::command_output('sacct', '-n', '-P', '-X', '-j', "${id}_$task",
                                          '-o', 'State,ExitCode');
    return "$1, exit code $2 (sacct)" if defined $out && $out =~ /^([^|\s]+)[^|]*\|(\S+)/m;
    $out = SepcoreJobs::command_output('scontrol', '-o', 'show', 'job', "${id}_$task");
    return undef unless defined $out && $out =~ /\bJobState=(\S+)/;
    my $state = $1;
    my $reason = $out =~ /\bReason=(\S+)/ ? $1 : 'None';
    return "$state, reason $reason (scontrol)";
  },
);
