"""The "app" the micro-benchmark runs under each init (drainit, tini, dumb-init).

Written for the Python 3 that Debian ships, standard library only: no compiler is
involved, and the timestamps come from CLOCK_MONOTONIC, the clock the harness reads
before it sends a signal, so the two can be subtracted.

Modes (first argument):
  hop [RATE]   print "hop <ns>" from the SIGTERM handler; with RATE, a sibling process
               orphans RATE short-lived processes per second meanwhile
  orphans N    leave N live orphans to the init; on "go" on stdin, let them all exit
  count FILE   count USR1, USR2, WINCH and HUP into FILE (8-byte counters)
Every mode prints "ready" once its handlers are in place.
"""

import mmap
import os
import signal
import struct
import sys
import time

MONOTONIC = time.CLOCK_MONOTONIC


def now_ns():
    return time.clock_gettime_ns(MONOTONIC)


def say(line):
    # One write per line: lines from two processes never interleave inside a line.
    os.write(1, (line + "\n").encode())


def orphan_one():
    """Fork a process that forks a grandchild and exits at once: the grandchild is orphaned."""
    pid = os.fork()
    if pid == 0:
        try:
            if os.fork() == 0:
                os._exit(0)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def orphan_load(rate):
    """Runs until killed: orphans `rate` processes per second, reports the rate it achieved."""
    # The init forwards the stop signal to the whole group in group mode: this load must survive it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    start = now_ns()
    made = 0
    reported_at = start
    while True:
        elapsed = now_ns() - start
        due = rate * elapsed // 1_000_000_000
        if made < due:
            # Catch up in small batches; never more than 50 at once, so the pace stays even.
            for _ in range(min(due - made, 50)):
                orphan_one()
                made += 1
        else:
            time.sleep(0.0005)
        t = now_ns()
        if t - reported_at >= 250_000_000:
            say(f"load {made} {t - start}")
            reported_at = t


def hop(rate):
    if rate > 0:
        if os.fork() == 0:
            try:
                orphan_load(rate)
            finally:
                os._exit(0)

    def on_term(signum, frame):
        say(f"hop {now_ns()}")

    signal.signal(signal.SIGTERM, on_term)
    say("ready")
    while True:
        signal.pause()


def orphans(count):
    """count orphans that block on a pipe; closing its write end lets them all exit at once."""
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        # posix_spawn (vfork-fast) of `cat`, which blocks on the pipe and exits at EOF;
        # then this middle process exits, and all of them are orphaned to the init.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for _ in range(count):
            os.posix_spawn(
                "/bin/cat",
                ["cat"],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, read_end, 0),
                    (os.POSIX_SPAWN_DUP2, devnull, 1),
                    (os.POSIX_SPAWN_CLOSE, write_end),
                ],
            )
        os._exit(0)
    os.waitpid(middle, 0)
    os.close(read_end)
    say("ready")
    sys.stdin.readline()
    say(f"released {now_ns()}")
    os.close(write_end)
    signal.pause()


#: The signals of the flood; each has its own slot of 8 bytes in the shared counter file.
FLOOD_SIGNALS = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGHUP]


def count(path):
    """Counts each flood signal into a file the harness maps too, so it reads them without a syscall."""
    fd = os.open(path, os.O_RDWR)
    counters = mmap.mmap(fd, 8 * len(FLOOD_SIGNALS))
    received = [0] * len(FLOOD_SIGNALS)

    def on_signal(signum, frame):
        slot = FLOOD_SIGNALS.index(signum)
        received[slot] += 1
        struct.pack_into("<Q", counters, 8 * slot, received[slot])

    for signum in FLOOD_SIGNALS:
        signal.signal(signum, on_signal)
    say("ready")
    while True:
        signal.pause()


def main():
    mode = sys.argv[1]
    if mode == "hop":
        hop(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    elif mode == "orphans":
        orphans(int(sys.argv[2]))
    elif mode == "count":
        count(sys.argv[2])
    else:
        sys.exit(f"app.py: unknown mode {mode}")


if __name__ == "__main__":
    main()
