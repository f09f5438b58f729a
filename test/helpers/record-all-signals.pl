#!/usr/bin/perl
# Appends the number of every catchable signal it receives to FILE, one per line (Perl's %SIG
# reaches real-time signals too, which node and shell traps do not all reach).
#   record-all-signals.pl FILE [EXIT_CODE [SEND]]
# Prints "ready PID" once every handler is in place. On TERM it records, then exits with
# EXIT_CODE (default 0). With SEND (comma-separated numbers) it sends each to PID 1 itself, from
# inside the namespace, one at a time, waiting up to 5 s for each to come back; then it exits
# with EXIT_CODE.
use strict;
use warnings;
use Config;
use IO::Handle;
use Time::HiRes qw(time sleep);

my ($out, $exit_code, $send) = @ARGV;
$exit_code //= 0;
open(my $record, '>>', $out) or die "$out: $!";
$record->autoflush(1);
STDOUT->autoflush(1);

my @names = split ' ', $Config{sig_name};
my %seen;
for my $num (1 .. 64) {
  next if $num == 9 || $num == 19 || $num == 32 || $num == 33;
  $SIG{$names[$num]} = sub {
    print $record "$num\n";
    $seen{$num}++;
    exit $exit_code if $num == 15 && !$send;
  };
}
print "ready $$\n";
if ($send) {
  for my $num (split /,/, $send) {
    kill($num, 1) or die "kill $num 1: $!";
    my $deadline = time + 5;
    sleep 0.005 until $seen{$num} || time > $deadline;
  }
  exit $exit_code;
}
sleep 1 while 1;
