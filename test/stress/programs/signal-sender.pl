#!/usr/bin/perl
# Sends COUNT signals to PID as fast as kill(2) allows, cycling through the given names.
# Prints how many it sent (kill can fail only if PID is gone, which ends the loop).
# Usage: signal-sender.pl PID COUNT NAME[,NAME...]
use strict;
use warnings;

my ($pid, $count, $names) = @ARGV;
die "usage: signal-sender.pl PID COUNT NAME[,NAME...]\n" unless defined $names;
my @signals = split /,/, $names;
my $sent = 0;
for my $i (0 .. $count - 1) {
  last unless kill($signals[$i % @signals], $pid);
  $sent++;
}
print "$sent\n";
