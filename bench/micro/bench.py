"""Micro-benchmark: drainit, tini and dumb-init side by side, in one run, on one machine.

Measures start-up (split into the runtime's share and drainit's), the signal hop (idle and
under orphan load), reaping of many orphans, memory as users pay it (one idle instance, and
per instance when 8 run from one executable file; threads), memory after a flood of
forwarded signals, and binary size. Every executable is put in the same page-cache state
before each start-up and memory figure (page_cache.STATE). Prints Markdown tables and
writes every figure as JSON to a file it names (bench/results/micro-<timestamp>.json, or
--out); `--compare OLD.json NEW.json` prints the change of every figure between two runs.

Run it through `npm run bench` (bench/micro/run.sh), which installs tini and dumb-init and
builds dist/drainit first. Needs root: each init runs as PID 1 of a new PID namespace
(unshare --pid --fork --mount-proc).
"""

import argparse
import datetime
import http.server
import json
import mmap
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

import compare
import page_cache

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APP = os.path.join(HERE, "app.py")
RESULTS = os.path.join(ROOT, "bench", "results")
README = os.path.join(ROOT, "README.md")
RUNTIME_SETTINGS_SOURCE = os.path.join(ROOT, "src", "runtime", "runtime-settings.ts")
TABLE_START = "<!-- bench:micro:start -->"
TABLE_END = "<!-- bench:micro:end -->"
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
SLEEP = shutil.which("sleep") or "/bin/sleep"
GNU_TIME = "/usr/bin/time"

FULL = dict(
    start_rounds=3, start_runs=100, peak_runs=5, hop_samples=500, load_samples=300, load_rate=5000,
    orphans=10_000, signals=1_000_000, instances=8, idle_early_s=2, idle_late_s=15,
)
QUICK = dict(
    start_rounds=2, start_runs=10, peak_runs=1, hop_samples=30, load_samples=30, load_rate=1000,
    orphans=500, signals=10_000, instances=8, idle_early_s=1, idle_late_s=3,
)
HOP_WARMUP = 20
HOP_ROUNDS = 3
#: Upper bound on one init's signal flood, so that a slow init cannot stall the whole run.
FLOOD_CAP_S = 100


# --- the programs compared ----------------------------------------------------------
#
# Executables: each is run from a private copy in a scratch directory (except /bin/true), so
# that no other process on the machine shares its pages and its page-cache state is ours.

#: name -> where it comes from; "empty" is built by build_empty_program(), "drainit" is
#: dist/drainit or --drainit.
EXECUTABLES = {
    "true": "/bin/true", "drainit": None, "empty": None, "tini": "tini", "dumb-init": "dumb-init",
    # The health probe's peers: what a HEALTHCHECK runs where the image has them.
    "curl": "curl", "busybox": "busybox",
}
#: The executables copied into the scratch directory (the others are used where they are).
PRIVATE = {"drainit", "empty", "tini", "dumb-init"}


def row(id, label, exe, args, env=None):
    return {"id": id, "label": label, "exe": exe, "args": args, "env": env}


#: Every command whose start-up is timed, one entry per row, all in the same interleaved runs.
#: `env` names a set of extra environment variables (Setup.envs, filled by prepare()). An argument "{url}" is
#: replaced by the address of a local HTTP server that answers 200 to every GET (the health-probe
#: rows: drainit's probe against the clients a HEALTHCHECK would otherwise need in the image).
START_ROWS = [
    row("true", "`/bin/true` alone (the baseline)", "true", []),
    row("runtime", "empty program, compiled as drainit is", "empty", []),
    row("runtime-settings", "empty program, runtime settings in its environment", "empty", [], env="settings"),
    row("drainit", "`drainit -- /bin/true`", "drainit", ["--", "/bin/true"]),
    row("drainit-no-restart", "`drainit -- /bin/true`, no self-restart (settings preset)", "drainit", ["--", "/bin/true"], env="restarted"),
    row("drainit-options", "`drainit -c -r 15:3 --drain 0 -- /bin/true`", "drainit", ["-c", "-r", "15:3", "--drain", "0", "--", "/bin/true"]),
    row("tini", "`tini -s -- /bin/true`", "tini", ["-s", "--", "/bin/true"]),
    row("dumb-init", "`dumb-init -- /bin/true`", "dumb-init", ["--", "/bin/true"]),
    row("drainit-probe", "`drainit --probe URL` (healthy)", "drainit", ["--probe", "{url}"]),
    row("curl", "`curl -fsS -o /dev/null URL`", "curl", ["-fsS", "-o", "/dev/null", "{url}"]),
    row("busybox-wget", "`busybox wget -q -O /dev/null URL`", "busybox", ["wget", "-q", "-O", "/dev/null", "{url}"]),
]
BASELINE = "true"

#: The inits run as PID 1 (signal hop, reaping, memory), each in its default mode: drainit and
#: dumb-init signal the child's process group, tini the child. The first is compared with the
#: others. `load` is the START_ROWS entry whose untimed run loads it into the page cache.
INITS = [
    {"id": "drainit", "exe": "drainit", "args": ["--"], "load": "drainit"},
    {"id": "tini", "exe": "tini", "args": ["--"], "load": "tini"},
    {"id": "dumb-init", "exe": "dumb-init", "args": ["--"], "load": "dumb-init"},
]
INIT_IDS = [init["id"] for init in INITS]
INIT_BY_ID = {init["id"]: init for init in INITS}
ROW_BY_ID = {r["id"]: r for r in START_ROWS}


class Setup:
    """Where each executable is, and the environments the rows ask for."""

    def __init__(self):
        self.paths = {}
        self.envs = {None: {}}
        self.url = None

    def argv(self, entry):
        args = [self.url if arg == "{url}" else arg for arg in entry["args"]]
        return [self.paths[entry["exe"]], *args]

    def env(self, entry):
        return {**ENV, **self.envs[entry.get("env")]}


def runtime_settings():
    """The settings drainit restarts itself with, and the variable that marks a restart, read
    from its source so that the benchmark follows them."""
    try:
        with open(RUNTIME_SETTINGS_SOURCE) as f:
            source = f.read()
    except OSError:
        sys.exit(f"bench: cannot read {os.path.relpath(RUNTIME_SETTINGS_SOURCE, ROOT)} (the runtime settings)")
    marker = re.search(r'ADDED_SETTINGS_VARIABLE\s*=\s*"(\w+)"', source)
    block = re.search(r"RUNTIME_SETTINGS\b[^=]*=\s*\{(.*?)\}", source, re.S)
    settings = dict(re.findall(r'(\w+)\s*:\s*"([^"]*)"', block.group(1))) if block else {}
    if not marker or not settings:
        sys.exit("bench: the runtime settings or their marker variable moved: update runtime_settings() in bench.py")
    return settings, marker.group(1)


def build_empty_program(scratch):
    """An empty program built by scripts/build.mjs itself, so with the very flags drainit is built
    with: a copy of the build scripts next to a src/entry.ts (the build's entry) of one line and the
    signal handler's source, and node_modules linked."""
    tree = os.path.join(scratch, "empty-program")
    os.makedirs(os.path.join(tree, "src"))
    shutil.copytree(os.path.join(ROOT, "scripts"), os.path.join(tree, "scripts"))
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(tree, "node_modules"))
    # The build compiles the signal handler and embeds it: the empty program carries it too.
    os.makedirs(os.path.join(tree, "src", "sys"))
    shutil.copy2(os.path.join(ROOT, "src", "sys", "signal-handler.c"), os.path.join(tree, "src", "sys"))
    with open(os.path.join(tree, "src", "entry.ts"), "w") as f:
        f.write("process.exit(0);\n")
    out = os.path.join(scratch, "empty")
    done = subprocess.run(["node", os.path.join(tree, "scripts", "build.mjs"), out], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: building the empty program failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return out


def prepare(scratch, drainit_source):
    setup = Setup()
    for name, source in EXECUTABLES.items():
        if name == "drainit":
            path = drainit_source
        elif name == "empty":
            path = build_empty_program(scratch)
        else:
            path = source if os.path.isabs(source) else shutil.which(source)
            if not path:
                sys.exit(f"bench: {source} is not installed (npm run bench installs it)")
            path = os.path.realpath(path)
        if name in PRIVATE and os.path.dirname(path) != scratch:
            copy = os.path.join(scratch, name)
            shutil.copy2(path, copy)
            path = copy
        setup.paths[name] = path
    settings, marker = runtime_settings()
    setup.envs["settings"] = settings
    # As drainit sees itself after its restart: the settings, and the marker naming them.
    setup.envs["restarted"] = {**settings, marker: ",".join(settings)}
    if any("{url}" in r["args"] for r in START_ROWS):
        setup.url = serve_healthy()
    return setup


def serve_healthy():
    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a probe that has its status hangs up before the body: not news here

    server = Server(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


# --- page-cache state ----------------------------------------------------------------


def settle(setup, loads):
    """Puts every executable the `loads` rows use in page_cache.STATE: evicts them all, then runs
    each row once, untimed. Returns the MB of each executable resident after evicting and after loading."""
    exes = sorted({ROW_BY_ID[load]["exe"] for load in loads})
    for exe in exes:
        page_cache.evict(setup.paths[exe])
    evicted = {exe: page_cache.resident_bytes(setup.paths[exe]) / 1e6 for exe in exes}
    stuck = [exe for exe in exes if evicted[exe] > 0.5 * os.path.getsize(setup.paths[exe]) / 1e6]
    if stuck:
        sys.exit(f"bench: could not evict {', '.join(stuck)} from the page cache (a tmpfs? set TMPDIR to a disk)")
    with open(os.devnull, "wb") as devnull:
        for load in loads:
            entry = ROW_BY_ID[load]
            status, _ = time_run(setup.argv(entry), setup.env(entry), devnull.fileno())
            if status != 0:
                sys.exit(f"bench: {' '.join(setup.argv(entry))} exited with status {status}, not 0")
    loaded = {exe: page_cache.resident_bytes(setup.paths[exe]) / 1e6 for exe in exes}
    return {"evicted_mb": evicted, "loaded_mb": loaded}


# --- statistics ------------------------------------------------------------------------


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def spread(values, scale):
    return {
        "n": len(values),
        "p50": percentile(values, 50) / scale,
        "p90": percentile(values, 90) / scale,
        "p99": percentile(values, 99) / scale,
        "max": max(values) / scale,
    }


def progress(message):
    print(f"  {message}", file=sys.stderr, flush=True)


# --- start-up --------------------------------------------------------------------------


def time_run(argv, env, devnull):
    """(exit status, wall ns) of one run."""
    started = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    took = time.perf_counter_ns() - started
    return os.waitstatus_to_exitcode(status), took


def peak_rss_kb(argv, env):
    """Peak RSS of one run, read by GNU time: a process spawned straight from this harness would
    count the harness's own memory (the peak carries over through the exec)."""
    with tempfile.NamedTemporaryFile(mode="r", prefix="drainit-bench-peak-") as out:
        done = subprocess.run([GNU_TIME, "-f", "%M", "-o", out.name, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} exited with status {done.returncode}, not 0")
        return int(out.read().split()[-1])


def start_up(setup, rounds, runs, peak_runs):
    """Every row of START_ROWS, interleaved in a new random order each time, in rounds that each
    begin with every executable put back in page_cache.STATE; then the peak RSS of each row."""
    ids = [r["id"] for r in START_ROWS]
    samples = {i: [] for i in ids}
    peaks = {i: [] for i in ids}
    round_p50 = {i: [] for i in ids}
    states = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for number in range(rounds):
            progress(f"round {number + 1} of {rounds}: {runs} runs of each of {len(ids)} commands")
            states.append(settle(setup, ids))
            this_round = {i: [] for i in ids}
            order = list(ids)
            for _ in range(runs):
                random.shuffle(order)
                for i in order:
                    entry = ROW_BY_ID[i]
                    status, took = time_run(setup.argv(entry), setup.env(entry), devnull)
                    if status != 0:
                        sys.exit(f"bench: {' '.join(setup.argv(entry))} exited with status {status}, not 0")
                    this_round[i].append(took)
            for i in ids:
                samples[i] += this_round[i]
                round_p50[i].append(percentile(this_round[i], 50) / 1e6)
    finally:
        os.close(devnull)
    for _ in range(peak_runs):
        for i in ids:
            peaks[i].append(peak_rss_kb(setup.argv(ROW_BY_ID[i]), setup.env(ROW_BY_ID[i])))
    baseline = percentile(samples[BASELINE], 50) / 1e6
    out = {"page_cache": states}
    for i in ids:
        s = spread(samples[i], 1e6)
        s["overhead_p50"] = s["p50"] - baseline
        s["round_p50"] = round_p50[i]
        s["peak_rss_kb"] = percentile(peaks[i], 50)
        out[i] = s
    p50 = {i: out[i]["p50"] for i in ids}
    # Where drainit's start-up goes, each part a difference of medians from the same runs.
    out["split"] = {
        "runtime_floor": p50["runtime"] - p50[BASELINE],
        "runtime_settings": p50["runtime-settings"] - p50["runtime"],
        "self_restart": p50["drainit"] - p50["drainit-no-restart"],
        "drainit_code": p50["drainit-no-restart"] - p50["runtime-settings"],
        "options": p50["drainit-options"] - p50["drainit"],
    }
    return out


# --- an init as PID 1 of its own PID namespace ------------------------------------


def app(*args):
    return [sys.executable, APP, *args]


class Pid1:
    """`unshare --pid --fork --mount-proc INIT -- CHILD...`, watched from outside."""

    def __init__(self, setup, init, child, stdin=False):
        self.log = tempfile.TemporaryFile()
        argv = ["unshare", "--pid", "--fork", "--mount-proc", *setup.argv(INIT_BY_ID[init]), *child]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=ENV,
        )
        self.buffer = b""
        self.other_lines = []
        self.pid = self._init_pid()

    def _init_pid(self):
        """The init's pid as seen from here: the child unshare forked."""
        deadline = time.monotonic() + 10
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    pids = f.read().split()
                if pids:
                    return int(pids[0])
            except FileNotFoundError:
                pass
            time.sleep(0.001)
        self.fail("the init did not start")

    def fail(self, why):
        self.stop()
        self.log.seek(0)
        tail = self.log.read()[-2000:].decode(errors="replace")
        raise RuntimeError(f"{why}\n{tail}")

    def line(self, timeout):
        """The next line of the app's stdout, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = max(0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                self.fail("the app's output ended")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def expect(self, prefix, timeout=10):
        """Skips to the next line starting with `prefix`; other lines are kept in other_lines."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0, deadline - time.monotonic()))
            if line is None:
                self.fail(f"no '{prefix}' line from the app within {timeout}s")
            if line.startswith(prefix):
                return line
            self.other_lines.append(line)

    def pending_lines(self):
        lines = []
        while True:
            line = self.line(0)
            if line is None:
                return lines
            lines.append(line)

    def children(self):
        """Every child of the init, zombies included, whichever of its threads is the parent."""
        pids = []
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{task}/children") as f:
                    pids.extend(f.read().split())
            except FileNotFoundError:
                pass
        return pids

    def memory_kb(self):
        try:
            with open(f"/proc/{self.pid}/smaps_rollup") as f:
                text = f.read()
        except (FileNotFoundError, ProcessLookupError):
            self.fail(f"the init exited (status {self.proc.wait()})")
        keys = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Clean", "Private_Dirty", "Anonymous")
        kb = {key: int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) for key in keys}
        # USS, the pages only this process maps: unlike PSS it does not depend on other copies running.
        kb["Uss"] = kb["Private_Clean"] + kb["Private_Dirty"]
        return kb

    def threads(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/task"))
        except (FileNotFoundError, ProcessLookupError):
            self.fail(f"the init exited (status {self.proc.wait()})")

    def stop(self):
        # SIGKILL to PID 1 of a namespace takes every process of the namespace with it.
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, AttributeError, TypeError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def zombies_among(pids):
    count = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] == b"Z":
            count += 1
    return count


# --- signal hop -------------------------------------------------------------------


def hop_round(setup, init, samples, rate):
    """One PID-1 run: (hops in ns, orphans made, ns the load ran)."""
    run = Pid1(setup, init, app("hop", str(rate)))
    try:
        run.expect("ready")
        if rate:
            run.expect("load", timeout=30)  # the load is running
            time.sleep(0.5)
        hops = []
        for i in range(HOP_WARMUP + samples):
            # A pause between samples, so that each signal meets an init that is waiting.
            time.sleep(random.uniform(0.002, 0.005))
            sent = now_ns()
            os.kill(run.pid, signal.SIGTERM)
            handled = int(run.expect("hop", timeout=10).split()[1])
            if i >= HOP_WARMUP:
                hops.append(handled - sent)
        made = elapsed = 0
        if rate:
            loads = [line.split() for line in run.other_lines + run.pending_lines() if line.startswith("load")]
            made, elapsed = int(loads[-1][1]), int(loads[-1][2])
        return hops, made, elapsed
    finally:
        run.stop()


def signal_hop(setup, samples, rate=0):
    """kill(init, SIGTERM) → the app's SIGTERM handler, both stamped with CLOCK_MONOTONIC.

    The samples are taken in rounds that take turns between the inits, so that a burst of
    other work on the machine does not land on one init alone.
    """
    hops = {init: [] for init in INIT_IDS}
    made = {init: 0 for init in INIT_IDS}
    elapsed = {init: 0 for init in INIT_IDS}
    for _ in range(HOP_ROUNDS):
        for init in INIT_IDS:
            round_hops, round_made, round_elapsed = hop_round(setup, init, -(-samples // HOP_ROUNDS), rate)
            hops[init] += round_hops
            made[init] += round_made
            elapsed[init] += round_elapsed
    results = {}
    for init in INIT_IDS:
        result = spread(hops[init], 1e3)
        if rate:
            result["load_target_per_s"] = rate
            result["load_achieved_per_s"] = round(made[init] / (elapsed[init] / 1e9))
        results[init] = result
    return results


# --- reaping ----------------------------------------------------------------------


def reaping(setup, init, orphans):
    """`orphans` live orphans of the init exit at once: how long until all are reaped."""
    run = Pid1(setup, init, app("orphans", str(orphans)), stdin=True)
    try:
        run.expect("ready", timeout=600)
        before = len(run.children()) - 1  # all but the app
        run.proc.stdin.write(b"go\n")
        run.proc.stdin.flush()
        released = int(run.expect("released").split()[1])
        peak_zombies = 0
        last_scan = 0
        deadline = time.monotonic() + 120
        while True:
            kids = run.children()
            if len(kids) <= 1:
                done = now_ns()
                break
            if time.monotonic() > deadline:
                done = None
                break
            if now_ns() - last_scan > 20_000_000:
                peak_zombies = max(peak_zombies, zombies_among(kids))
                last_scan = now_ns()
            time.sleep(0.0002)
        time.sleep(0.2)
        kids = run.children()
        return {
            "orphans": before,
            "reap_ms": None if done is None else (done - released) / 1e6,
            "peak_zombies": peak_zombies,
            "left": max(0, len(kids) - 1),
            "zombies_left": zombies_among(kids),
        }
    finally:
        run.stop()


# --- memory -----------------------------------------------------------------------


FLOOD_SIGNALS = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGHUP]
#: A signal the app has not counted after this long is sent again (it may have coalesced).
RESEND_NS = 50_000_000


def flood(run, counters, signals):
    """Sends each flood signal again as soon as the app has counted the previous one of its kind.

    At most one of each kind is ever pending, so nothing coalesces and what the app counts is
    what the init forwarded; four kinds keep four signals in flight. Returns (sent, counted in
    total, seconds) once the app has counted `signals` in total.
    """
    kinds = range(len(FLOOD_SIGNALS))
    seen = [struct.unpack_from("<Q", counters, 8 * kind)[0] for kind in kinds]
    sent_at = [0] * len(FLOOD_SIGNALS)
    sent = 0
    started = time.monotonic()
    while sum(seen) < signals and time.monotonic() - started < FLOOD_CAP_S:
        now = now_ns()
        for kind in kinds:
            counted = struct.unpack_from("<Q", counters, 8 * kind)[0]
            if counted != seen[kind] or now - sent_at[kind] > RESEND_NS:
                seen[kind] = counted
                os.kill(run.pid, FLOOD_SIGNALS[kind])
                sent_at[kind] = now
                sent += 1
        # The init and the app need the CPU more than this loop does.
        os.sched_yield()
    return sent, sum(seen), time.monotonic() - started


def flood_memory(setup, init, signals):
    """PSS/RSS of the init while the app sleeps, then after `signals` forwarded signals."""
    with tempfile.NamedTemporaryFile(prefix="drainit-bench-") as shared:
        shared.write(bytes(8 * len(FLOOD_SIGNALS)))
        shared.flush()
        counters = mmap.mmap(shared.fileno(), 8 * len(FLOOD_SIGNALS))
        settle(setup, [INIT_BY_ID[init]["load"]])
        run = Pid1(setup, init, app("count", shared.name))
        try:
            run.expect("ready")
            time.sleep(1.0)
            idle = run.memory_kb()
            # A first tenth warms the heap up; what grows after it would be a leak.
            sent, forwarded, took = flood(run, counters, signals // 10)
            time.sleep(1.0)
            warm = run.memory_kb()
            more_sent, forwarded, more_took = flood(run, counters, signals)
            sent, took = sent + more_sent, took + more_took
            time.sleep(1.0)
            after = run.memory_kb()
            return {
                "idle_rss_kb": idle["Rss"],
                "idle_pss_kb": idle["Pss"],
                "idle_uss_kb": idle["Uss"],
                "signals_sent": sent,
                "signals_forwarded": forwarded,
                "flood_s": round(took, 1),
                "forwarded_per_s": round(forwarded / took),
                "after_rss_kb": after["Rss"],
                "after_pss_kb": after["Pss"],
                "after_uss_kb": after["Uss"],
                "pss_growth_kb": after["Pss"] - idle["Pss"],
                "warm_pss_kb": warm["Pss"],
                # Where the memory is: the heap (anonymous) or the executable's pages (file).
                "pss_anon_kb": {"idle": idle["Pss_Anon"], "warm": warm["Pss_Anon"], "after": after["Pss_Anon"]},
                "pss_file_kb": {"idle": idle["Pss_File"], "warm": warm["Pss_File"], "after": after["Pss_File"]},
                "pss_growth_after_warmup_kb": after["Pss"] - warm["Pss"],
            }
        finally:
            run.stop()
            counters.close()


# --- memory as users pay it ------------------------------------------------------------


MEMORY_KEYS = ("Pss", "Pss_Anon", "Pss_File", "Anonymous", "Uss", "Rss")


def snapshot(runs):
    """Per instance: the mean of each memory figure (kB) and of the thread count, and the most threads."""
    kbs = [run.memory_kb() for run in runs]
    threads = [run.threads() for run in runs]
    out = {key: sum(kb[key] for kb in kbs) / len(kbs) for key in MEMORY_KEYS}
    out["threads"] = sum(threads) / len(threads)
    out["threads_max"] = max(threads)
    return out


def idle_memory(setup, instances, early_s, late_s):
    """`instances` idle copies of each init (child: sleep), all started from one executable file,
    as containers started from one image layer are; read `early_s` and `late_s` after the last start.
    The inits run side by side (they share no file), each after page_cache.STATE was set."""
    state = settle(setup, [init["load"] for init in INITS])
    runs = {init: [] for init in INIT_IDS}
    try:
        for init in INIT_IDS:
            for _ in range(instances):
                runs[init].append(Pid1(setup, init, [SLEEP, "3600"]))
        started = time.monotonic()
        time.sleep(max(0, started + early_s - time.monotonic()))
        early = {init: snapshot(runs[init]) for init in INIT_IDS}
        time.sleep(max(0, started + late_s - time.monotonic()))
        late = {init: snapshot(runs[init]) for init in INIT_IDS}
    finally:
        for init in INIT_IDS:
            for run in runs[init]:
                run.stop()
    return {init: {"instances": instances, "early": early[init], "late": late[init]} for init in INIT_IDS}, state


# --- figures ---------------------------------------------------------------------------


def figures(results):
    """Every figure of the run, flat, {name: {"value", "unit"}}: what --compare compares."""
    out = {}

    def put(name, value, unit):
        out[name] = {"value": None if value is None else round(value, 4) if isinstance(value, float) else value, "unit": unit}

    start = results["start"]
    for r in START_ROWS:
        s = start[r["id"]]
        put(f"startup.median.{r['id']}", s["p50"], "ms")
        if r["id"] != BASELINE:
            put(f"startup.overhead.{r['id']}", s["overhead_p50"], "ms")
        put(f"startup.p99.{r['id']}", s["p99"], "ms")
        put(f"startup.peak_rss.{r['id']}", s["peak_rss_kb"] / 1024, "MB")
    for part, value in start["split"].items():
        put(f"startup.split.{part}", value, "ms")
    for init in INIT_IDS:
        r = results["inits"][init]
        for count, key in ((1, "idle_one"), (r["idle_many"]["instances"], "idle_many")):
            for when in ("early", "late"):
                m = r[key][when]
                prefix = f"memory.{count}x.{when}"
                put(f"{prefix}.pss.{init}", m["Pss"] / 1024, "MB")
                put(f"{prefix}.private_anon.{init}", m["Anonymous"] / 1024, "MB")
                put(f"{prefix}.uss.{init}", m["Uss"] / 1024, "MB")
                put(f"{prefix}.threads.{init}", m["threads"], "threads")
        for key in ("hop", "hop_load"):
            for p in ("p50", "p90", "p99"):
                put(f"{key}.{p}.{init}", r[key][p], "µs")
        put(f"reap.ms.{init}", r["reap"]["reap_ms"], "ms")
        put(f"reap.zombies_left.{init}", r["reap"]["zombies_left"], "zombies")
        put(f"flood.forwarded_per_s.{init}", r["flood"]["forwarded_per_s"], "signals/s")
        put(f"flood.pss_after.{init}", r["flood"]["after_pss_kb"] / 1024, "MB")
        put(f"flood.pss_growth_after_warmup.{init}", r["flood"]["pss_growth_after_warmup_kb"] / 1024, "MB")
        put(f"size.{init}", r["size_bytes"] / 1e6, "MB")
    return out


# --- report ----------------------------------------------------------------------------


def versions(setup):
    def first_line(argv):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    return {init: first_line([setup.paths[INIT_BY_ID[init]["exe"]], "--version"]) for init in INIT_IDS}


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:,.1f}×"


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in rows]


def start_table(results):
    start = results["start"]
    rows = []
    for r in START_ROWS:
        s = start[r["id"]]
        overhead = "" if r["id"] == BASELINE else fmt(s["overhead_p50"], 2)
        rounds = " / ".join(fmt(p50, 1) for p50 in s["round_p50"])
        rows.append([r["label"], fmt(s["p50"], 2), overhead, rounds, fmt(s["p99"], 2), fmt(s["peak_rss_kb"] / 1024, 1)])
    header = ["start-up", "median (ms)", "over `/bin/true` (ms)", "median of each round (ms)", "p99 (ms)", "peak RSS (MB)"]
    lines = markdown(header, rows)
    split = start["split"]
    parts = [
        ("the runtime (empty program over `/bin/true`)", split["runtime_floor"]),
        ("the runtime settings (same program, settings set)", split["runtime_settings"]),
        ("drainit's own code, spawning and reaping the child", split["drainit_code"]),
        ("drainit's self-restart with the runtime settings", split["self_restart"]),
    ]
    lines += ["", "| where `drainit -- /bin/true`'s overhead goes | ms |", "|---|---:|"]
    lines += [f"| {label} | {fmt(value, 2)} |" for label, value in parts]
    lines.append(f"| total | {fmt(start['drainit']['overhead_p50'], 2)} |")
    lines.append(f"| options on the command line (`-c -r 15:3 --drain 0`), on top | {fmt(split['options'], 2)} |")
    return lines


def init_table(results):
    r = results["inits"]
    first, others = INIT_IDS[0], INIT_IDS[1:]
    rows = []

    def add(label, pick, digits=1, show_ratio=True):
        values = [pick(r[init]) for init in INIT_IDS]
        ratios = [ratio(values[0], values[1 + i]) if show_ratio else "" for i in range(len(others))]
        rows.append([label, *[fmt(v, digits) for v in values], *ratios])

    add("start overhead over `/bin/true`, median (ms)", lambda x: x["start_overhead_ms"], 2)
    many = r[first]["idle_many"]["instances"]
    for key, label in (("idle_one", "one idle instance"), ("idle_many", f"each of {many} idle instances of one file")):
        add(f"{label}: PSS (MB)", lambda x, k=key: x[k]["late"]["Pss"] / 1024, 2)
        add(f"{label}: private anonymous (MB)", lambda x, k=key: x[k]["late"]["Anonymous"] / 1024, 2)
        add(f"{label}: USS, private pages (MB)", lambda x, k=key: x[k]["late"]["Uss"] / 1024, 2)
    add(f"threads, idle, {results['plan']['idle_early_s']} s after start", lambda x: x["idle_one"]["early"]["threads"], 0, show_ratio=False)
    add(f"threads, idle, {results['plan']['idle_late_s']} s after start", lambda x: x["idle_one"]["late"]["threads"], 0, show_ratio=False)
    for key, label in (("hop", "signal hop"), ("hop_load", "signal hop under orphan load")):
        for p in ("p50", "p90", "p99"):
            add(f"{label} {p} (µs)", lambda x, k=key, q=p: x[k][q], 0)
    add("orphan load achieved (processes/s)", lambda x: x["hop_load"]["load_achieved_per_s"], 0, show_ratio=False)
    orphans = r[first]["reap"]["orphans"]
    add(f"reap {orphans:,} orphans (ms)", lambda x: x["reap"]["reap_ms"], 0)
    add("peak zombies seen while reaping", lambda x: x["reap"]["peak_zombies"], 0, show_ratio=False)
    add("zombies left after", lambda x: x["reap"]["zombies_left"], 0, show_ratio=False)
    signals = r[first]["flood"]["signals_forwarded"]
    add(f"PSS after ≥{signals:,} forwarded signals (MB)", lambda x: x["flood"]["after_pss_kb"] / 1024, 2)
    add(f"PSS growth from ≥{signals // 10:,} to ≥{signals:,} signals (MB)", lambda x: x["flood"]["pss_growth_after_warmup_kb"] / 1024, 2, show_ratio=False)
    add("signals forwarded per second in the flood", lambda x: x["flood"]["forwarded_per_s"], 0)
    add("binary size (MB)", lambda x: x["size_bytes"] / 1e6, 2)
    header = ["", *INIT_IDS, *[f"{first}/{other}" for other in others]]
    return markdown(header, rows)


def table(results):
    machine = results["machine"]
    lines = start_table(results) + [""] + init_table(results) + [""]
    busy = machine["loadavg_at_start"][0]
    lines.append(
        f"{results['date']}, {results['mode']} run, {machine['cpus']} CPUs, Linux {machine['kernel']}; "
        f"load average {busy:.1f} before the run, {machine['loadavg_at_end'][0]:.1f} after"
        + (" (a busy machine: other work ran alongside)" if busy >= 0.5 * machine["cpus"] else "")
        + "; "
        + ", ".join(v for v in results["versions"].values() if v)
        + f". Page cache before each start-up and memory figure: {page_cache.STATE}."
    )
    return "\n".join(lines)


def update_readme(text):
    with open(README) as f:
        readme = f.read()
    start, end = readme.find(TABLE_START), readme.find(TABLE_END)
    if start < 0 or end < start:
        print(f"bench: README.md has no {TABLE_START} … {TABLE_END} block; not updated", file=sys.stderr)
        return
    with open(README, "w") as f:
        f.write(readme[: start + len(TABLE_START)] + "\n" + text + "\n" + readme[end:])


def main():
    parser = argparse.ArgumentParser(description="drainit vs tini vs dumb-init micro-benchmark")
    parser.add_argument("--quick", action="store_true", help="a few runs of everything, to check the harness (figures not meaningful)")
    parser.add_argument("--readme", action="store_true", help="write the tables into README.md")
    parser.add_argument("--drainit", metavar="PATH", help="benchmark this drainit executable instead of dist/drainit")
    parser.add_argument("--out", metavar="FILE", help="write the results here (default: bench/results/micro-<timestamp>.json)")
    parser.add_argument("--compare", nargs=2, metavar=("OLD.json", "NEW.json"), help="print the change of every figure between two results files, and run nothing")
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare.main(*args.compare))
    drainit = os.path.abspath(args.drainit or os.path.join(ROOT, "dist", "drainit"))
    if os.geteuid() != 0:
        sys.exit("bench: needs root (each init runs as PID 1 of a new PID namespace)")
    if not os.access(drainit, os.X_OK):
        sys.exit(f"bench: {drainit} is missing: run npm run build")
    plan = QUICK if args.quick else FULL
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="drainit-bench-") as scratch:
        setup = prepare(scratch, drainit)
        results = measure(args, plan, setup, drainit)
    results["duration_s"] = round(time.monotonic() - began, 1)
    results["figures"] = figures(results)
    report(args, results)


def measure(args, plan, setup, drainit):
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "plan": plan,
        "drainit": os.path.relpath(drainit, ROOT) if drainit.startswith(ROOT + os.sep) else drainit,
        "page_cache_state": page_cache.STATE,
        "machine": {"cpus": os.cpu_count(), "kernel": os.uname().release, "loadavg_at_start": os.getloadavg()},
        "versions": versions(setup),
        "rows": START_ROWS,
        "inits": {init: {"size_bytes": os.path.getsize(setup.paths[INIT_BY_ID[init]["exe"]])} for init in INIT_IDS},
    }
    print(f"start-up: {plan['start_rounds']} rounds of {plan['start_runs']} interleaved runs", file=sys.stderr)
    results["start"] = start_up(setup, plan["start_rounds"], plan["start_runs"], plan["peak_runs"])
    for init in INITS:
        results["inits"][init["id"]]["start_overhead_ms"] = results["start"][init["load"]]["overhead_p50"]
    print(f"idle memory: 1, then {plan['instances']} instances of each init", file=sys.stderr)
    one, one_state = idle_memory(setup, 1, plan["idle_early_s"], plan["idle_late_s"])
    many, many_state = idle_memory(setup, plan["instances"], plan["idle_early_s"], plan["idle_late_s"])
    results["memory_page_cache"] = [one_state, many_state]
    for init in INIT_IDS:
        results["inits"][init]["idle_one"] = one[init]
        results["inits"][init]["idle_many"] = many[init]
    print(f"signal hop: {plan['hop_samples']} samples each", file=sys.stderr)
    for init, result in signal_hop(setup, plan["hop_samples"]).items():
        results["inits"][init]["hop"] = result
    print(f"signal hop under load ({plan['load_rate']} orphans/s asked): {plan['load_samples']} samples each", file=sys.stderr)
    for init, result in signal_hop(setup, plan["load_samples"], plan["load_rate"]).items():
        results["inits"][init]["hop_load"] = result
    for init in INIT_IDS:
        print(f"{init}:", file=sys.stderr)
        r = results["inits"][init]
        progress(f"reaping {plan['orphans']} orphans")
        r["reap"] = reaping(setup, init, plan["orphans"])
        progress(f"memory, {plan['signals']} signals")
        r["flood"] = flood_memory(setup, init, plan["signals"])
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    return results


def report(args, results):
    text = table(results)
    print(text)
    if args.out:
        path = os.path.abspath(args.out)
    else:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = os.path.join(RESULTS, f"micro-{stamp}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
    print(f"\n{results['duration_s']}s; results in {os.path.relpath(path, os.getcwd())}", file=sys.stderr)
    if args.readme:
        update_readme(text)


if __name__ == "__main__":
    main()
