#!/usr/bin/env perl
# Usage: run.pl [options] [JOB=1:N] <log-file> <command> [args...]
#  e.g.: run.pl --max-jobs-run 2 JOB=1:4 exp/log/separate.JOB.log \
#          python -m sepcore.bin.separate --job JOB --num-jobs 4 ...
#
# Runs the command locally, once per job id (JOB in the command and in the log
# name is replaced by the id; without JOB=... it runs once). Each log starts with
# '# <command>' and '# Started at <date>' and ends with '# Accounting: time=<s>
# threads=<T>' and '# Ended (code <c>) at <date>, elapsed time <s> seconds'.
# Arguments without white space are passed to bash as they are (so '\|' pipes).
# Exits 1 with 'run.pl: K / N failed, log is in <log-file with *>' if any job fails.
#
# Options:
#   --max-jobs-run N   run at most N jobs at a time (default: all at once)
#   --num-threads T    recorded in the log footer
#   --gpu G, --mem M, --time T, --config F, and any other '--name value':
#                      accepted for compatibility with slurm.pl/queue.pl, ignored here

use strict;
use warnings;
use FindBin qw($RealBin);
use lib "$RealBin/lib";
use File::Basename qw(dirname);
use File::Path qw(make_path);
use SepcoreJobs;

my $prog = 'run.pl';
my $job = SepcoreJobs::parse_args($prog, @ARGV);
my $opts = $job->{opts};
my @ids = ($job->{start} .. $job->{end});
my $max = $opts->{max_jobs_run} // scalar(@ids);
my $threads = $opts->{num_threads} // 1;

sub run_one {
  my ($id) = @_;
  my $cmd = SepcoreJobs::job_cmd($job, $id);
  my $log = SepcoreJobs::job_log($job, $id);
  my $dir = dirname($log);
  make_path($dir) unless -d $dir;
  open(my $fh, '>', $log) or do { print STDERR "$prog: cannot write $log: $!\n"; return 1; };
  print $fh "# $cmd\n# Started at " . SepcoreJobs::now() . "\n#\n";
  close $fh;
  my $t0 = time();
  my $pid = fork();
  die "$prog: fork failed: $!\n" unless defined $pid;
  if ($pid == 0) {
    open(STDOUT, '>>', $log) or die "$prog: cannot write $log: $!\n";
    open(STDERR, '>&', \*STDOUT) or die;
    exec('bash', '-c', "set -o pipefail; $cmd") or exit 127;
  }
  waitpid($pid, 0);
  my $status = $?;
  my $code = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
  my $elapsed = time() - $t0;
  open($fh, '>>', $log) or return 1;
  print $fh "# Accounting: time=$elapsed threads=$threads\n";
  print $fh "# Ended (code $code) at " . SepcoreJobs::now() . ", elapsed time $elapsed seconds\n";
  close $fh;
  return $code;
}

# Each job runs in its own child process (which writes the header and footer), in
# its own process group, so that when run.pl is interrupted or killed, it can pass
# the signal on to everything the jobs started.
my %running;
for my $sig (qw(INT TERM HUP)) {
  $SIG{$sig} = sub {
    kill $sig, map { -$_ } keys %running;
    print STDERR "$prog: got SIG$sig, stopped " . scalar(keys %running) . " running jobs\n";
    exit 1;
  };
}
my @failed;
my @todo = @ids;
while (@todo || %running) {
  while (@todo && keys(%running) < $max) {
    my $id = shift @todo;
    my $pid = fork();
    die "$prog: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
      $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
      setpgrp(0, 0);
      # not in the terminal's foreground group any more: reading it would stop the job
      open(STDIN, '<', '/dev/null') if -t STDIN;
      exit(run_one($id) == 0 ? 0 : 1);
    }
    setpgrp($pid, $pid);  # also here, so that a signal right after fork reaches it
    $running{$pid} = $id;
  }
  my $pid = wait();
  last if $pid < 0;
  next unless exists $running{$pid};
  my $id = delete $running{$pid};
  push @failed, $id if $? != 0;
}
exit SepcoreJobs::report($prog, $job, \@failed);
