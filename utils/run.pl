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
# No job outlives run.pl: SIGINT/SIGTERM/SIGHUP are passed on to every running job
# (each runs in its own process group), and when run.pl is killed outright (kill -9 of
# it, or of the process group of the script that ran it) each job gets SIGTERM, then
# SIGKILL after SEPCORE_KILL_GRACE seconds (default 5).
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
use POSIX qw(WNOHANG);
use Time::HiRes ();
use SepcoreJobs;

my $prog = 'run.pl';
my $job = SepcoreJobs::parse_args($prog, @ARGV);
my $opts = $job->{opts};
my @ids = ($job->{start} .. $job->{end});
my $max = $opts->{max_jobs_run} // scalar(@ids);
my $threads = $opts->{num_threads} // 1;

# How long a job has after SIGTERM (run.pl gone) before SIGKILL; env SEPCORE_KILL_GRACE.
my $grace = $ENV{SEPCORE_KILL_GRACE} // 5;

sub note {
  my ($log, $line) = @_;
  if (open(my $fh, '>>', $log)) { print $fh "$line\n"; close $fh; }
}

# Runs in the job's wrapper process, the leader of the job's own process group: starts
# the job, waits for it, writes the log footer. $alive is the read end of a pipe whose
# write end only run.pl holds: it reads end-of-file as soon as run.pl ends, however it
# ends (kill -9 included), and then the wrapper stops the job: SIGTERM to its group, and
# SIGKILL after $grace seconds.
sub run_one {
  my ($id, $alive) = @_;
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
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);  # (ignored signals would stay ignored)
    open(STDOUT, '>>', $log) or die "$prog: cannot write $log: $!\n";
    open(STDERR, '>&', \*STDOUT) or die;
    exec('bash', '-c', "set -o pipefail; $cmd") or exit 127;
  }
  local $SIG{CHLD} = sub {};  # interrupts the select below when the job ends
  my $orphaned;
  while (1) {
    my $r = waitpid($pid, WNOHANG);
    last if $r == $pid || $r < 0;
    if ($orphaned) {
      if (Time::HiRes::time() - $orphaned >= $grace) {
        note($log, "# $prog: the job did not end in $grace s: SIGKILL");
        kill 'KILL', -$$;  # the job and everything it started (this wrapper too)
      }
      select(undef, undef, undef, 0.1);
      next;
    }
    my $rin = '';
    vec($rin, fileno($alive), 1) = 1;
    if (select(my $rout = $rin, undef, undef, 0.5) > 0) {  # end-of-file: run.pl has ended
      $orphaned = Time::HiRes::time();
      note($log, "# $prog has ended: stopping this job (SIGTERM)");
      kill 'TERM', -$$;
    }
  }
  my $status = $?;
  my $code = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
  my $elapsed = time() - $t0;
  open($fh, '>>', $log) or return 1;
  print $fh "# Accounting: time=$elapsed threads=$threads\n";
  print $fh "# Ended (code $code) at " . SepcoreJobs::now() . ", elapsed time $elapsed seconds\n";
  close $fh;
  return $code;
}

# Each job runs under its own wrapper process (which writes the header and footer), in
# its own process group, so that a signal reaches everything the job started:
# SIGINT/SIGTERM/SIGHUP of run.pl are passed on to the jobs' groups; when run.pl itself
# is killed (kill -9 of run.pl, or of the process group of the script that called it),
# each wrapper sees it through the pipe and stops its job. No job outlives run.pl.
pipe(my $alive_r, my $alive_w) or die "$prog: pipe failed: $!\n";
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
      close($alive_w);
      # the wrapper outlives its job's signals to write the footer
      $SIG{$_} = 'IGNORE' for qw(INT TERM HUP);
      setpgrp(0, 0);
      # not in the terminal's foreground group any more: reading it would stop the job
      open(STDIN, '<', '/dev/null') if -t STDIN;
      exit(run_one($id, $alive_r) == 0 ? 0 : 1);
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
