"""Health probe cost: `drainit --probe URL` against curl (and busybox wget) on the same local URL.

Each sample is one start of the probe, timed from posix_spawn to its exit. Peak memory is the
peak RSS of a second run under GNU time (%M): a process's recorded peak includes the memory of the
process it was forked from, so the launcher must be small (python's own 20 MB would hide the figure).
The programs take turns, after one warm-up run each, so that every binary is in the page cache
and drift on the machine hits them all alike.

    python3 bench/micro/probe.py [--runs N] [--json FILE]
"""

import argparse
import http.server
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DRAINIT = os.path.join(ROOT, "dist", "drainit")


class Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that closes before the body is sent is not news here


GNU_TIME = "/usr/bin/time"


def spawn_wait(argv, devnull):
    started = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, {"PATH": "/usr/bin:/bin"}, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    return (time.perf_counter_ns() - started) / 1e6, os.waitstatus_to_exitcode(status)


def one_run(argv, devnull, rss_file):
    """(wall ms, peak RSS KiB, exit code) of one run, and of one run under GNU time for the RSS."""
    took, code = spawn_wait(argv, devnull)
    spawn_wait([GNU_TIME, "-f", "%M", "-o", rss_file, *argv], devnull)
    with open(rss_file) as f:
        rss = int(f.read().strip().splitlines()[-1])
    return took, rss, code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not os.path.exists(DRAINIT):
        sys.exit("bench: dist/drainit is missing: npm run build first")

    if not os.path.exists(GNU_TIME):
        sys.exit("bench: GNU time (/usr/bin/time) is missing: scripts/install-system-packages.sh installs it")
    server = QuietServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/healthz"

    programs = {"drainit --probe": [DRAINIT, "--probe", url]}
    curl = shutil.which("curl")
    if curl:
        programs["curl -fsS"] = [curl, "-fsS", "-o", "/dev/null", url]
    busybox = shutil.which("busybox")
    if busybox:
        programs["busybox wget"] = [busybox, "wget", "-q", "-O", "/dev/null", url]

    devnull = os.open(os.devnull, os.O_WRONLY)
    rss_file = os.path.join(tempfile.mkdtemp(prefix="drainit-probe-bench-"), "rss")
    names = list(programs)
    for name in names:
        if one_run(programs[name], devnull, rss_file)[2] != 0:
            sys.exit(f"bench: {name} did not succeed against {url}")
    samples = {name: [] for name in names}
    for _ in range(args.runs):
        random.shuffle(names)
        for name in names:
            samples[name].append(one_run(programs[name], devnull, rss_file))
    server.shutdown()

    results = {}
    print(f"| probe ({args.runs} runs each) | start-to-exit p50 | p90 | peak RSS p50 |")
    print("|---|---|---|---|")
    for name in programs:
        times = sorted(s[0] for s in samples[name])
        rss = statistics.median(s[1] for s in samples[name])
        failures = sum(1 for s in samples[name] if s[2] != 0)
        p50, p90 = statistics.median(times), times[int(len(times) * 0.9) - 1]
        results[name] = {"p50_ms": p50, "p90_ms": p90, "peak_rss_kib": rss, "failures": failures}
        print(f"| `{name}` | {p50:.1f} ms | {p90:.1f} ms | {rss / 1024:.1f} MiB |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
