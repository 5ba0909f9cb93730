#!/usr/bin/env perl
# Usage: rebase_scp.pl <scp-dir> <prefix> < in.scp > out.scp
#  e.g.: filter_scp.pl ids data/test/wav.scp | rebase_scp.pl data/test ../../ > data/test/split4/1/wav.scp
#
# For an scp copied from <scp-dir> into another folder: each value that is a relative
# path naming a file under <scp-dir> (how sepcore writes a data dir's own files; see
# sepcore/io/scp.py) gets <prefix>, the way from the new folder back to <scp-dir>, so
# the copy names the same files. Absolute paths, commands ('... |') and relative paths
# that do not exist under <scp-dir> (relative to the current folder) are kept.
use strict;
use warnings;

if (@ARGV != 2 || $ARGV[0] eq '--help') {
  print STDERR "Usage: rebase_scp.pl <scp-dir> <prefix> < in.scp > out.scp\n";
  exit(@ARGV == 1 && $ARGV[0] eq '--help' ? 0 : 1);
}
my ($dir, $prefix) = @ARGV;
while (my $line = <STDIN>) {
  if ($line =~ /^(\s*\S+\s+)(.*?)(\s*)$/s) {
    my ($head, $value, $tail) = ($1, $2, $3);
    if ($value !~ m{^/} && $value !~ /\|$/ && -e "$dir/$value") {
      $line = "$head$prefix$value$tail";
    }
  }
  print $line;
}
