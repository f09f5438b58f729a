# Forks sleeping children until the kernel refuses (the pids limit), says so, then waits.
# SIGTERM ends it with code 5. Each child sleeps a minute, so the limit stays reached.
import os
import signal
import sys
import time

signal.signal(signal.SIGTERM, lambda *_: os._exit(5))
made = 0
while True:
    try:
        pid = os.fork()
    except OSError as error:
        print(f"limit reached after {made} forks: {error.strerror}", flush=True)
        break
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        time.sleep(60)
        os._exit(0)
    made += 1
while True:
    time.sleep(1)
