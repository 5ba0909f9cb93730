package SepcoreJobs;
# Shared code of utils/run.pl, utils/slurm.pl and utils/queue.pl (Kaldi's job-runner
# interface):  <prog> [options] [JOB=1:N] <log-file> <command> [args...]
#
# parse_args   options, the JOB range, the log file and the command line
# job_cmd/job_log   the command / log name of one job (JOB replaced by its id)
# report       the "K / N failed, log is in ..." summary and the exit status
# run_cluster  slurm.pl / queue.pl: write a job script, submit it as an array job,
#              wait for the done markers the script writes, report failures.

use strict;
use warnings;
use Cwd qw(getcwd);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);

# A die() in any of the scripts: message and exit status 1 (not 255).
$SIG{__DIE__} = sub { print STDERR $_[0]; exit 1; };

sub usage_and_exit {
  my ($code) = @_;
  my $fh;
  if (open($fh, '<', $0)) {
    my $on = 0;
    while (my $line = <$fh>) {
      $on = 1 if $line =~ /^#\s*Usage:/;
      next unless $on;
      last unless $line =~ /^#/;
      $line =~ s/^# ?//;
      print $line;
    }
    close $fh;
  }
  exit $code;
}

sub die_usage {
  my ($prog, $msg) = @_;
  print STDERR "$prog: $msg\n";
  print STDERR "$prog: see '$prog --help'\n";
  exit 1;
}

# Join the arguments into one shell command line the way Kaldi does: an argument
# without white space or quotes is used as is (so '|', '>' and '&&' keep their
# meaning), anything else is single-quoted.
sub join_command {
  my @args = @_;
  my @out;
  for my $a (@args) {
    if ($a =~ /^[^\s'"\\]+$/) {
      push @out, $a;
    } else {
      (my $q = $a) =~ s/'/'\\''/g;
      push @out, "'$q'";
    }
  }
  return join(' ', @out);
}

# Returns a hash ref: opts (name => value, names with '_'), jobname, start, end,
# single (no JOB= given), logfile, cmd.
sub parse_args {
  my ($prog, @argv) = @_;
  my %opts;
  my ($jobname, $start, $end);
  for my $pass (1, 2) {  # JOB=1:N may come before or after the options
    while (@argv && $argv[0] =~ /^-/) {
      my $a = shift @argv;
      usage_and_exit(0) if $a eq '--help' || $a eq '-h';
      my ($name, $value);
      if ($a =~ /^--([A-Za-z][\w-]*)=(.*)$/s) {
        ($name, $value) = ($1, $2);
      } elsif ($a =~ /^--([A-Za-z][\w-]*)$/) {
        $name = $1;
        die_usage($prog, "option $a needs a value") unless @argv;
        $value = shift @argv;
      } else {
        die_usage($prog, "invalid option '$a' (options look like --name value)");
      }
      $name =~ s/-/_/g;
      $opts{$name} = $value;
    }
    if (@argv && $argv[0] =~ /^([A-Za-z_]\w*)=(\d+):(\d+)$/) {
      die_usage($prog, "two job ranges given ($argv[0])") if defined $jobname;
      ($jobname, $start, $end) = ($1, $2, $3);
      die_usage($prog, "empty job range $argv[0]") if $end < $start;
      shift @argv;
    } elsif (@argv && $argv[0] =~ /^([A-Za-z_]\w*)=(\d+)$/) {
      die_usage($prog, "two job ranges given ($argv[0])") if defined $jobname;
      ($jobname, $start, $end) = ($1, $2, $2);
      shift @argv;
    }
  }
  die_usage($prog, "expected a log file and a command") if @argv < 2;
  my $logfile = shift @argv;
  if (defined $jobname && $end > $start && index($logfile, $jobname) < 0) {
    die_usage($prog, ($end - $start + 1) . " jobs but the log file '$logfile' does not contain $jobname");
  }
  for my $k (qw(max_jobs_run num_threads)) {
    next unless defined $opts{$k};
    die_usage($prog, "--" . ($k =~ s/_/-/gr) . " expects a positive integer, got '$opts{$k}'")
      unless $opts{$k} =~ /^\d+$/ && $opts{$k} > 0;
  }
  return {
    opts => \%opts, jobname => $jobname, start => $start // 1, end => $end // 1,
    single => !defined $jobname, logfile => $logfile, cmd => join_command(@argv),
  };
}

sub subst_job {
  my ($job, $text, $id) = @_;
  return $text if $job->{single};
  my $name = $job->{jobname};
  $text =~ s/\Q$name\E/$id/g;
  return $text;
}

sub job_cmd { my ($job, $id) = @_; return subst_job($job, $job->{cmd}, $id); }
sub job_log { my ($job, $id) = @_; return subst_job($job, $job->{logfile}, $id); }

# @$failed: the ids of the failed jobs. Prints the summary (Kaldi's line, then the logs
# of the first failed jobs) and returns the exit status.
sub report {
  my ($prog, $job, $failed) = @_;
  return 0 unless @$failed;
  my $n = $job->{end} - $job->{start} + 1;
  my $k = @$failed;
  my $pattern = $job->{single} ? $job->{logfile} : subst_job($job, $job->{logfile}, '*');
  print STDERR "$prog: $k / $n failed, log is in $pattern\n";
  unless ($job->{single}) {
    my @ids = sort { $a <=> $b } @$failed;
    my @logs = map { job_log($job, $_) } @ids[0 .. ($k > 5 ? 4 : $k - 1)];
    print STDERR "$prog: failed: @logs" . ($k > 5 ? " and " . ($k - 5) . " more" : "") . "\n";
  }
  return 1;
}

sub now { return scalar localtime(); }

# ---------------------------------------------------------------------------------
# Cluster back ends (Kaldi-style config: "command ...", "option name=value args",
# "option name=* args with $0", "default name=value").

sub read_config {
  my ($prog, $text, $source) = @_;
  my %cfg = (command => [], rules => {}, defaults => {});
  my $lineno = 0;
  for my $line (split /\n/, $text) {
    $lineno++;
    $line =~ s/#.*$//;
    next unless $line =~ /\S/;
    if ($line =~ /^\s*command\s+(.+?)\s*$/) {
      $cfg{command} = [split ' ', $1];
    } elsif ($line =~ /^\s*option\s+(\w+)=(\S+)\s*(.*?)\s*$/) {
      $cfg{rules}{$1}{$2} = $3;
    } elsif ($line =~ /^\s*default\s+(\w+)=(\S+)\s*$/) {
      $cfg{defaults}{$1} = $2;
    } else {
      die "$prog: $source:$lineno: cannot parse '$line' "
        . "(expected 'command ...', 'option name=value ...' or 'default name=value')\n";
    }
  }
  die "$prog: $source: no 'command' line\n" unless @{$cfg{command}};
  return \%cfg;
}

sub config_args {
  my ($prog, $cfg, $opts) = @_;
  my %values = (%{$cfg->{defaults}}, %$opts);
  my @args;
  for my $name (sort keys %values) {
    next if $name eq 'config' || $name eq 'max_jobs_run';
    my $value = $values{$name};
    my $rules = $cfg->{rules}{$name};
    die "$prog: option --" . ($name =~ s/_/-/gr) . " is not supported by the config\n"
      unless $rules;
    my $rule;
    if (exists $rules->{$value}) {
      $rule = $rules->{$value};
    } elsif (exists $rules->{'*'}) {
      ($rule = $rules->{'*'}) =~ s/\$0/$value/g;
    } else {
      die "$prog: option --" . ($name =~ s/_/-/gr) . " $value is not supported by the config\n";
    }
    push @args, split(' ', $rule);
  }
  return @args;
}

sub shell_quote { my ($s) = @_; $s =~ s/'/'\\''/g; return "'$s'"; }

# %b: prog, default_config, task_var, submit_args (sub($job, $base, $qdir, $out) ->
# list), parse_id (sub($output) -> id), status_cmd and cancel_cmd (sub($id) -> list),
# explain (sub($id, $task) -> the scheduler's word on how a task ended, or undef).
sub run_cluster {
  my (%b) = @_;
  my $prog = $b{prog};
  my $job = parse_args($prog, @ARGV);
  my $opts = $job->{opts};
  my $cfg;
  if (defined $opts->{config}) {
    open(my $fh, '<', $opts->{config}) or die "$prog: cannot read config $opts->{config}: $!\n";
    local $/;
    $cfg = read_config($prog, scalar <$fh>, $opts->{config});
  } else {
    $cfg = read_config($prog, $b{default_config}, 'built-in config');
  }
  my @submit = (@{$cfg->{command}}, config_args($prog, $cfg, $opts));

  my $logdir = dirname($job->{logfile});
  my $base = basename($job->{logfile});
  $base =~ s/\.?\Q$job->{jobname}\E// unless $job->{single};
  $base =~ s/\.log$//;
  my $qdir = "$logdir/q";
  make_path($qdir);
  my $cwd = getcwd();
  my $tag = "$base.$$";
  my $script = "$qdir/$base.sh";
  my $threads = $opts->{num_threads} // 1;
  my $abs_qdir = $qdir =~ m{^/} ? $qdir : "$cwd/$qdir";
  my $marker = shell_quote("$abs_qdir/$tag.done");
  # While it waits, this process touches the heartbeat file; a task whose heartbeat has
  # not changed for $orphan seconds (this process was killed with SIGKILL, or its host
  # went down) stops its command rather than run on with nobody to collect it. Only the
  # file's changes are compared, so the clocks of the hosts need not agree.
  my $beat = $ENV{SEPCORE_QUEUE_HEARTBEAT} // 10;
  my $orphan = $ENV{SEPCORE_QUEUE_ORPHAN_TIMEOUT} // 600;
  die "$prog: SEPCORE_QUEUE_ORPHAN_TIMEOUT must be a whole number of seconds >= 2, got "
    . "'$orphan'\n" unless $orphan =~ /^\d+$/ && $orphan >= 2;
  die "$prog: SEPCORE_QUEUE_HEARTBEAT must be a number of seconds below half of "
    . "SEPCORE_QUEUE_ORPHAN_TIMEOUT ($orphan), got '$beat'\n"
    unless $beat =~ /^\d+(\.\d+)?$/ && $beat > 0 && $beat < $orphan / 2;
  my $heartbeat = "$abs_qdir/$tag.alive";
  my $look = int($orphan / 4) || 1;
  open(my $hb, '>', $heartbeat) or die "$prog: cannot write $heartbeat: $!\n";
  close $hb;

  open(my $sh, '>', $script) or die "$prog: cannot write $script: $!\n";
  print $sh "#!/usr/bin/env bash\n# Generated by $prog at " . now() . "; one task per job id.\n";
  print $sh "task=\${$b{task_var}:-$job->{start}}\n";
  print $sh "cd " . shell_quote($cwd) . " || { echo 1 > $marker.\$task; exit 1; }\n";
  print $sh "[ -f ./path.sh ] && . ./path.sh\n";
  print $sh "case \$task in\n";
  for my $id ($job->{start} .. $job->{end}) {
    print $sh "  $id) log=" . shell_quote(job_log($job, $id))
      . "; cmd=" . shell_quote(job_cmd($job, $id)) . " ;;\n";
  }
  print $sh "  *) echo \"$prog job script: unknown task id \$task\" >&2; exit 1 ;;\nesac\n";
  print $sh <<"EOF";
mkdir -p "\$(dirname "\$log")"
{ echo "# \$cmd"; echo "# Started at \$(date)"; echo "# Running on \$(hostname)"; echo "#"; } > "\$log"
t0=\$(date +%s)
# in the background, in the job's own process group (the scheduler's signals reach it as
# before), watched for the heartbeat below
bash -c "set -o pipefail; \$cmd" >> "\$log" 2>&1 &
pid=\$!
heartbeat=@{[shell_quote($heartbeat)]}
tree() {  # <pid>: it and every process below it, listed before any is signalled
  local child
  echo "\$1"
  for child in \$(ps -o pid= --ppid "\$1" 2>/dev/null); do tree "\$child"; done
}
(
  last=\$(stat -c %Y "\$heartbeat" 2>/dev/null); since=\$(date +%s)
  while sleep $look; do
    now=\$(stat -c %Y "\$heartbeat" 2>/dev/null)
    if [ "\$now" != "\$last" ]; then last=\$now; since=\$(date +%s); continue; fi
    if [ \$((\$(date +%s) - since)) -ge $orphan ]; then
      echo "# $prog: stopping the task: \$heartbeat has not changed for $orphan s (the" \\
        "$prog waiting for this job was killed or lost its host)" >> "\$log"
      pids=\$(tree \$pid)
      kill -TERM \$pids 2>/dev/null
      sleep 10; kill -KILL \$pids 2>/dev/null
      exit
    fi
  done
) &
watcher=\$!
wait \$pid
ret=\$?
kill \$watcher 2>/dev/null
t=\$((\$(date +%s) - t0))
echo "# Accounting: time=\$t threads=$threads" >> "\$log"
echo "# Ended (code \$ret) at \$(date), elapsed time \$t seconds" >> "\$log"
echo \$ret > $marker.\$task.tmp && mv $marker.\$task.tmp $marker.\$task
exit \$ret
EOF
  close $sh;
  chmod 0755, $script;

  my $out = "$qdir/$base.out";
  push @submit, $b{submit_args}->($job, $base, $qdir, $out), $script;
  my $submit_line = join_command(@submit);
  my $output = `$submit_line 2>&1`;
  if ($? != 0) {
    print STDERR "$prog: submitting failed (exit " . ($? >> 8) . "): $submit_line\n$output";
    unlink $heartbeat;
    exit 1;
  }
  my $id = $b{parse_id}->($output);
  if (defined $id && $b{cancel_cmd}) {  # interrupted or killed: cancel the job too
    for my $sig (qw(INT TERM HUP)) {
      $SIG{$sig} = sub {
        my $cancel = join_command($b{cancel_cmd}->($id));
        system("$cancel >/dev/null 2>&1");
        unlink $heartbeat;
        print STDERR "$prog: got SIG$sig; cancelled job $id ($cancel)\n";
        exit 1;
      };
    }
  }

  # Wait for a done marker per task. If the scheduler no longer knows the job but
  # markers are missing (killed: time or memory limit, node failure), those count as failed.
  my @ids = ($job->{start} .. $job->{end});
  my %code;
  my $interval = 0.05;
  my $check_every = $ENV{SEPCORE_QUEUE_CHECK_INTERVAL} // 60;
  my $grace = $ENV{SEPCORE_QUEUE_GRACE} // 30;
  my $last_check = time();
  my $last_beat = time();
  my $gone_since;
  while (1) {
    if (time() - $last_beat >= $beat) {
      $last_beat = time();
      utime(undef, undef, $heartbeat);
    }
    for my $t (@ids) {
      next if defined $code{$t};
      my $m = "$qdir/$tag.done.$t";
      if (open(my $fh, '<', $m)) {
        my $c = <$fh> // '';
        close $fh;
        chomp $c;
        $code{$t} = $c =~ /^\d+$/ ? $c : 1;
        unlink $m;
      }
    }
    last if keys(%code) == @ids;
    if (time() - $last_check >= $check_every && defined $id && $b{status_cmd}) {
      $last_check = time();
      my $gone = !job_known($b{status_cmd}->($id));
      $gone_since //= time() if $gone;
      $gone_since = undef unless $gone;
    }
    if (defined $gone_since && time() - $gone_since >= $grace) {
      for my $t (@ids) {
        next if defined $code{$t};
        my $why = $b{explain} ? $b{explain}->($id, $t) : undef;
        my $how = defined $why ? "was ended by the scheduler: $why" : "ended without writing its "
          . "done marker (killed by the scheduler?)";
        print STDERR "$prog: job $id task $t $how; see " . job_log($job, $t) . " and $out\n";
        if (open(my $fh, '>>', job_log($job, $t))) {
          print $fh "# $prog: job $id task $t $how\n";
          close $fh;
        }
        $code{$t} = 1;
      }
      last;
    }
    sleep($interval);
    $interval = $interval * 1.5 > 10 ? 10 : $interval * 1.5;
    $interval = $beat if $interval > $beat;
  }
  unlink $heartbeat;
  exit report($prog, $job, [grep { $code{$_} != 0 } @ids]);
}

# True if the status command says the job still exists (or cannot be asked).
# The output of a command, or undef if it failed or is not installed.
sub command_output {
  my $line = join_command(@_);
  my $output = `$line 2>/dev/null`;
  return $? == 0 ? $output : undef;
}

sub job_known {
  my @cmd = @_;
  my $line = join_command(@cmd);
  my $output = `$line 2>/dev/null`;
  return 1 if $? == -1 || ($? >> 8) == 127;  # no such command: cannot tell, keep waiting
  return 0 if $? != 0;
  return $output =~ /\S/ ? 1 : 0;
}

1;
