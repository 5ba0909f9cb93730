#!/usr/bin/env perl
# Usage: filter_scp.pl [--exclude] [-f <field>] <id-list> <in.scp> > <out.scp>
#
# Prints the lines of in.scp whose first field (or field <field>, 1-based) is an
# id in the first column of id-list (with --exclude: is not). Keeps the order of
# in.scp. <in.scp> may be '-' for stdin.

use strict;
use warnings;

my $prog = 'filter_scp.pl';
$SIG{__DIE__} = sub { print STDERR $_[0]; exit 1; };
my ($exclude, $field) = (0, 1);
while (@ARGV && $ARGV[0] =~ /^-./) {
  my $a = shift @ARGV;
  if ($a eq '--exclude') { $exclude = 1; }
  elsif ($a eq '-f' && @ARGV) { $field = shift @ARGV; }
  elsif ($a =~ /^-f(\d+)$/) { $field = $1; }
  elsif ($a eq '--help' || $a eq '-h') { usage(0); }
  else { print STDERR "$prog: unknown option '$a'\n"; usage(1); }
}
usage(1) unless @ARGV == 2;
die "$prog: -f expects a positive integer, got '$field'\n" unless $field =~ /^\d+$/ && $field > 0;

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

my ($idlist, $in) = @ARGV;
my %keep;
open(my $ids, '<', $idlist) or die "$prog: cannot read $idlist: $!\n";
while (<$ids>) {
  my ($id) = split;
  $keep{$id} = 1 if defined $id;
}
close $ids;
my $fh;
if ($in eq '-') { $fh = \*STDIN; }
else { open($fh, '<', $in) or die "$prog: cannot read $in: $!\n"; }
while (my $line = <$fh>) {
  my @f = split ' ', $line;
  my $hit = defined $f[$field - 1] && $keep{$f[$field - 1]};
  print $line if $hit xor $exclude;
}
