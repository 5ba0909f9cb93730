#!/usr/bin/env perl
# Usage: split_scp.pl [--utt2spk=<file>] <in.scp> <out1.scp> [<out2.scp> ... <outN.scp>]
#    or: split_scp.pl [--utt2spk=<file>] -j <N> <k> <in.scp>    (part k of N, 0-based, to stdout)
#
# Splits the lines of in.scp into N contiguous parts whose sizes differ by at
# most one (the first parts get the extra lines), keeping the input order. It is
# an error to ask for more parts than there are lines.
# With --utt2spk, all utterances of a speaker go to the same part (parts are then
# only roughly equal); it is an error to ask for more parts than speakers.

use strict;
use warnings;

my $prog = 'split_scp.pl';
$SIG{__DIE__} = sub { print STDERR $_[0]; exit 1; };
my ($utt2spk_file, $jobs, $job_id);
while (@ARGV && $ARGV[0] =~ /^-/) {
  my $a = shift @ARGV;
  if ($a =~ /^--utt2spk=(.+)$/) { $utt2spk_file = $1; }
  elsif ($a eq '--utt2spk' && @ARGV) { $utt2spk_file = shift @ARGV; }
  elsif ($a eq '-j' && @ARGV >= 2) { ($jobs, $job_id) = splice(@ARGV, 0, 2); }
  elsif ($a eq '--help' || $a eq '-h') { usage(0); }
  else { print STDERR "$prog: unknown option '$a'\n"; usage(1); }
}

sub usage {
  my ($code) = @_;
  my $out = $code ? \*STDERR : \*STDOUT;
  open(my $fh, '<', $0) or exit $code;
  while (<$fh>) {
    next if $. == 1;
    last unless /^#/;
    s/^# ?//;
    print $out $_;
  }
  exit $code;
}

my ($in, @outs);
if (defined $jobs) {
  usage(1) unless @ARGV == 1;
  die "$prog: -j expects N > 0 and 0 <= k < N, got -j $jobs $job_id\n"
    unless $jobs =~ /^\d+$/ && $job_id =~ /^\d+$/ && $jobs > 0 && $job_id < $jobs;
  $in = $ARGV[0];
} else {
  usage(1) unless @ARGV >= 2;
  ($in, @outs) = @ARGV;
  $jobs = @outs;
}

open(my $fh, '<', $in) or die "$prog: cannot read $in: $!\n";
my @lines = <$fh>;
close $fh;
my $n = @lines;
die "$prog: $in: cannot split $n lines into $jobs parts\n" if $jobs > $n;

# part[i]: the part of line i.
my @part;
if (defined $utt2spk_file) {
  open(my $u, '<', $utt2spk_file) or die "$prog: cannot read $utt2spk_file: $!\n";
  my %spk;
  while (<$u>) {
    my @f = split;
    die "$prog: $utt2spk_file:$.: expected '<utt> <spk>'\n" unless @f == 2;
    $spk{$f[0]} = $f[1];
  }
  close $u;
  my (@order, %lines_of);
  for my $i (0 .. $#lines) {
    my ($utt) = split ' ', $lines[$i];
    die "$prog: $in:" . ($i + 1) . ": empty line\n" unless defined $utt;
    my $s = $spk{$utt};
    die "$prog: $in:" . ($i + 1) . ": utterance '$utt' is not in $utt2spk_file\n"
      unless defined $s;
    push @order, $s unless exists $lines_of{$s};
    push @{$lines_of{$s}}, $i;
  }
  die "$prog: $in: cannot split " . scalar(@order) . " speakers into $jobs parts\n"
    if $jobs > @order;
  # A speaker goes to the part in which the middle of its lines falls, within
  # what keeps every part non-empty (parts advance by at most one per speaker).
  my ($done, $cur) = (0, 0);
  for my $si (0 .. $#order) {
    my $size = @{$lines_of{$order[$si]}};
    my $p = int(($done + $size / 2) * $jobs / $n);
    my $lo = $si == 0 ? 0 : $cur;
    my $hi = $si == 0 ? 0 : $cur + 1;
    my $need = $jobs - (@order - $si);  # parts left must each get a speaker
    $lo = $need if $lo < $need;
    $hi = $jobs - 1 if $hi > $jobs - 1;
    $p = $lo if $p < $lo;
    $p = $hi if $p > $hi;
    $part[$_] = $p for @{$lines_of{$order[$si]}};
    $cur = $p;
    $done += $size;
  }
} else {
  my $base = int($n / $jobs);
  my $extra = $n - $base * $jobs;
  my $i = 0;
  for my $p (0 .. $jobs - 1) {
    my $size = $p < $extra ? $base + 1 : $base;
    $part[$i++] = $p for 1 .. $size;
  }
}

if (@outs) {
  for my $p (0 .. $#outs) {
    open(my $o, '>', $outs[$p]) or die "$prog: cannot write $outs[$p]: $!\n";
    print $o $lines[$_] for grep { $part[$_] == $p } 0 .. $#lines;
    close $o or die "$prog: cannot write $outs[$p]: $!\n";
  }
} else {
  print $lines[$_] for grep { $part[$_] == $job_id } 0 .. $#lines;
}
