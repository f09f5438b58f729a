#!/bin/sh
# Makes COUNT orphans, prints "orphans made", then sleeps until a signal ends it.
#   make-orphans.sh COUNT
# Each orphan is the background child of a subshell that exits at once: it is reparented to
# the nearest subreaper (or PID 1), which alone can reap it.
count=$1
i=0
while [ "$i" -lt "$count" ]; do
  (: &)
  i=$((i + 1))
done
echo "orphans made"
exec sleep 600
