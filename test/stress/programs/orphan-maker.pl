#!/usr/bin/perl
# Makes COUNT orphans as fast as fork allows: intermediate processes each fork a batch of
# grandchildren that exit at once, then exit themselves, so every grandchild ends up as a
# zombie for the nearest reaper (drainit) to collect. Two intermediates run at a time.
# Forwarded signals are ignored here (set before "ready", so none can arrive earlier): they are
# meant for the counting child, not for this one.
# Reads one COUNT per line on stdin, answers "made COUNT" on stdout once they all exited.
use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(sleep);

$SIG{$_} = 'IGNORE' for qw(USR1 USR2 HUP WINCH INT QUIT ALRM URG);
$| = 1;
print "ready\n";
while (my $line = <STDIN>) {
  chomp $line;
  make_orphans($line) if $line =~ /^\d+$/;
  print "made $line\n";
}

sub make_orphans {
  my ($total) = @_;
  my ($batch, $parallel) = (200, 2);
  my ($made, $running) = (0, 0);
  while ($made < $total) {
    if ($running >= $parallel) { $running-- if waitpid(-1, 0) > 0; next; }
    my $size = $total - $made < $batch ? $total - $made : $batch;
    my $middle = fork();
    if (!defined $middle) { sleep 0.001; next; }
    if ($middle == 0) {
      my $forked = 0;
      while ($forked < $size) {
        my $orphan = fork();
        if (!defined $orphan) { sleep 0.001; next; }
        POSIX::_exit(0) if $orphan == 0;
        $forked++;
      }
      POSIX::_exit(0);
    }
    $made += $size;
    $running++;
  }
  while ($running > 0) { $running-- if waitpid(-1, 0) > 0; }
}
