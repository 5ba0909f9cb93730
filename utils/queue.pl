#!/usr/bin/env perl
# Usage: queue.pl [options] [JOB=1:N] <log-file> <command> [args...]
#  e.g.: queue.pl --gpu 1 --mem 8G JOB=1:4 exp/log/separate.JOB.log \
#          python -m sepcore.bin.separate --job JOB --num-jobs 4 ...
#
# The same interface as run.pl, on a Grid Engine cluster: writes a job script
# <log-dir>/q/<name>.sh (one task per job id), submits it with 'qsub -t 1:N',
# waits until every task has written its done marker, and exits 1 with
# 'queue.pl: K / N failed, log is in ...' (and the failed tasks' logs) if any job
# failed. Tasks that leave qstat without a marker (h_rt or memory limit, qdel) count
# as failed, with qacct's 'failed' reason and exit status. SIGINT/SIGTERM/SIGHUP
# delete the job (qdel); killed outright (SIGKILL, host lost), its tasks stop themselves
# once the heartbeat file it touches has not changed for SEPCORE_QUEUE_ORPHAN_TIMEOUT s
# (600; SEPCORE_QUEUE_HEARTBEAT: 10 s between touches). The job runs in the current directory with the submitting
# environment (qsub -V) and sources ./path.sh if there is one. (Kaldi's CLSP
# config added ram_free to --mem; that complex is not standard: use --config.)
#
# Options:
#   --max-jobs-run N   at most N tasks at a time (-tc N)
#   --gpu G            -l gpu=G                       (0: nothing)
#   --mem M            -l mem_free=M                  (e.g. 4G)
#   --num-threads T    -pe smp T                      (1: nothing)
#   --time T           -l h_rt=T
#   --config F         a Kaldi-style config replacing the built-in one (conf/queue.conf):
#                      'command qsub ...', 'option name=* args with $0',
#                      'option name=value args', 'default name=value'

use strict;
use warnings;
use FindBin qw($RealBin);
use lib "$RealBin/lib";
use SepcoreJobs;

my $default_config = <<'EOF';
command qsub -V -cwd -S /bin/bash -j y -terse
option gpu=0
option gpu=* -l gpu=$0
option mem=0
option mem=* -l mem_free=$0
option num_threads=1
option num_threads=* -pe smp $0
option time=* -l h_rt=$0
EOF

SepcoreJobs::run_cluster(
  prog => 'queue.pl',
  default_config => $default_config,
  task_var => 'SGE_TASK_ID',
  submit_args => sub {
    my ($job, $base, $qdir, $out) = @_;
    my $name = $base =~ /^[A-Za-z]/ ? $base : "j$base";  # a job name starts with a letter
    my @args = ('-t', "$job->{start}:$job->{end}", '-N', $name, '-o', $out);
    push @args, ('-tc', $job->{opts}{max_jobs_run}) if defined $job->{opts}{max_jobs_run};
    return @args;
  },
  parse_id => sub {
    my ($output) = @_;  # -terse prints e.g. "12345.1-4:1"
    return $output =~ /^\s*(\d+)/m ? $1 : undef;
  },
  cancel_cmd => sub { my ($id) = @_; return ('qdel', $id); },
  status_cmd => sub { my ($id) = @_; return ('qstat', '-j', $id); },
  explain => sub {
    my ($id, $task) = @_;
    my $out = SepcoreJobs::command_output('qacct', '-j', $id, '-t', $task);
    return undef unless defined $out && $out =~ /^failed\s+(.*?)\s*$/m;
    my $failed = $1;
    my $status = $out =~ /^exit_status\s+(\S+)/m ? $1 : '?';
    return "failed $failed, exit status $status (qacct)";
  },
);
