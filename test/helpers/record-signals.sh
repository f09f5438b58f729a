#!/bin/bash
# Appends the name of every forwardable signal it receives to FILE, one per line.
# On TERM it records, then exits with TERM_EXIT_CODE (default 0).
#   record-signals.sh FILE [TERM_EXIT_CODE]
# Prints "ready PID" once every trap is in place. Only builtins run after that, so the
# process group holds nothing but this shell and a group-wide signal reaches it alone.
out=$1
term_exit_code=${2:-0}
for sig in HUP INT QUIT USR1 USR2 PIPE ALRM CONT TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO SYS TRAP; do
  trap "echo $sig >> '$out'" "$sig"
done
trap "echo TERM >> '$out'; exit $term_exit_code" TERM

# A FIFO opened read-write never has data and never reaches end of file: `read` waits on it
# without a child process, and returns to run pending traps.
fifo=$(mktemp -u)
mkfifo "$fifo"
exec 3<>"$fifo"
rm -f "$fifo"
echo "ready $$"
while :; do read -r -t 1 -u 3 _; done
