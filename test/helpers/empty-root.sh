#!/bin/sh
# Runs `drainit ARGS...` in a root that holds nothing but the binary, its ELF interpreter,
# the shared libraries it links and an empty /proc (mounted inside a new PID namespace).
#   empty-root.sh DRAINIT DIR ARGS...
# Prints the files the root holds on stdout (one per line) before running drainit.
set -eu
binary=$1
root=$2
shift 2

mkdir -p "$root/proc"
cp "$binary" "$root/drainit"
# ldd lines look like "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
# "/lib64/ld-linux-x86-64.so.2 (0x...)": copy every absolute path, at its own path.
for library in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
(cd "$root" && find . -type f | sort)

exec unshare --pid --fork --mount sh -c 'root=$1; shift; mount -t proc proc "$root/proc" && exec chroot "$root" /drainit "$@"' sh "$root" "$@"
