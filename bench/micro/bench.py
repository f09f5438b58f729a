"""Micro-benchmark: drainit, tini and dumb-init side by side, in one run, on one machine.

Measures start overhead, signal hop (idle and under orphan load), reaping of many
orphans, memory (idle and after a flood of forwarded signals) and binary size. Prints
a Markdown table and writes every sample summary as JSON to bench/results/.

Run it through `npm run bench` (bench/micro/run.sh), which installs tini and
dumb-init and builds dist/drainit first. Needs root: each init runs as PID 1 of a
new PID namespace (unshare --pid --fork --mount-proc).
"""

import argparse
import datetime
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APP = os.path.join(HERE, "app.py")
DRAINIT = os.path.join(ROOT, "dist", "drainit")
RESULTS = os.path.join(ROOT, "bench", "results")
README = os.path.join(ROOT, "README.md")
TABLE_START = "<!-- bench:micro:start -->"
TABLE_END = "<!-- bench:micro:end -->"

INITS = ["drainit", "tini", "dumb-init"]
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

FULL = dict(start_runs=300, hop_samples=500, load_samples=300, load_rate=5000, orphans=10_000, signals=1_000_000)
QUICK = dict(start_runs=60, hop_samples=300, load_samples=300, load_rate=5000, orphans=2_000, signals=100_000)
HOP_WARMUP = 20
HOP_ROUNDS = 3
#: Upper bound on one init's signal flood, so that a slow init cannot stall the whole run.
FLOOD_CAP_S = 100


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def binary(init):
    if init == "drainit":
        return DRAINIT
    path = shutil.which(init)
    if not path:
        sys.exit(f"bench: {init} is not installed (npm run bench installs it)")
    return path


def pid1_argv(init):
    """The init as PID 1, in each tool's default mode (drainit and dumb-init: group, tini: child)."""
    return [binary(init), "--"]


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


# --- start overhead ---------------------------------------------------------------


def time_run(argv, devnull):
    started = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, ENV, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    os.waitpid(pid, 0)
    return time.perf_counter_ns() - started


def start_overhead(runs):
    """`INIT -- /bin/true` against `/bin/true` alone, interleaved so that drift hits all alike."""
    argvs = {"/bin/true": ["/bin/true"]}
    for init in INITS:
        # Not PID 1 here: tini needs -s to reap (drainit becomes a subreaper by itself).
        argvs[init] = [binary(init)] + (["-s"] if init == "tini" else []) + ["--", "/bin/true"]
    # With an option on the command line, drainit loads its option parser too.
    argvs["drainit-with-option"] = [DRAINIT, "--drain", "5s", "--", "/bin/true"]
    samples = {name: [] for name in argvs}
    devnull = os.open(os.devnull, os.O_WRONLY)
    names = list(argvs)
    for name in names:
        time_run(argvs[name], devnull)  # warm the page cache
    for _ in range(runs):
        random.shuffle(names)
        for name in names:
            samples[name].append(time_run(argvs[name], devnull))
    os.close(devnull)
    baseline = percentile(samples["/bin/true"], 50) / 1e6
    out = {"true_ms": spread(samples["/bin/true"], 1e6)}
    for init in [*INITS, "drainit-with-option"]:
        s = spread(samples[init], 1e6)
        s["overhead_p50"] = s["p50"] - baseline
        out[init] = s
    return out


# --- an init as PID 1 of its own PID namespace ------------------------------------


class Pid1:
    """`unshare --pid --fork --mount-proc INIT -- python3 app.py ARGS`, watched from outside."""

    def __init__(self, init, app_args, stdin=False):
        self.log = tempfile.TemporaryFile()
        argv = ["unshare", "--pid", "--fork", "--mount-proc", *pid1_argv(init), sys.executable, APP, *app_args]
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
        kb = {key: int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) for key in ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Clean", "Private_Dirty")}
        # USS, the pages only this process maps: unlike PSS it does not depend on other copies running.
        kb["Uss"] = kb["Private_Clean"] + kb["Private_Dirty"]
        return kb

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


def hop_round(init, samples, rate):
    """One PID-1 run: (hops in ns, orphans made, ns the load ran)."""
    run = Pid1(init, ["hop", str(rate)])
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


def signal_hop(samples, rate=0):
    """kill(init, SIGTERM) → the app's SIGTERM handler, both stamped with CLOCK_MONOTONIC.

    The samples are taken in rounds that take turns between the inits, so that a burst of
    other work on the machine does not land on one init alone.
    """
    hops = {init: [] for init in INITS}
    made = {init: 0 for init in INITS}
    elapsed = {init: 0 for init in INITS}
    for _ in range(HOP_ROUNDS):
        for init in INITS:
            round_hops, round_made, round_elapsed = hop_round(init, -(-samples // HOP_ROUNDS), rate)
            hops[init] += round_hops
            made[init] += round_made
            elapsed[init] += round_elapsed
    results = {}
    for init in INITS:
        result = spread(hops[init], 1e3)
        if rate:
            result["load_target_per_s"] = rate
            result["load_achieved_per_s"] = round(made[init] / (elapsed[init] / 1e9))
        results[init] = result
    return results


# --- reaping ----------------------------------------------------------------------


def reaping(init, orphans):
    """`orphans` live orphans of the init exit at once: how long until all are reaped."""
    run = Pid1(init, ["orphans", str(orphans)], stdin=True)
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


def memory(init, signals):
    """PSS/RSS of the init while the app sleeps, then after `signals` forwarded signals."""
    with tempfile.NamedTemporaryFile(prefix="drainit-bench-") as shared:
        shared.write(bytes(8 * len(FLOOD_SIGNALS)))
        shared.flush()
        counters = mmap.mmap(shared.fileno(), 8 * len(FLOOD_SIGNALS))
        run = Pid1(init, ["count", shared.name])
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


# --- report -----------------------------------------------------------------------


def versions():
    def first_line(argv):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    return {
        "drainit": first_line([DRAINIT, "--version"]),
        "tini": first_line([binary("tini"), "--version"]),
        "dumb-init": first_line([binary("dumb-init"), "--version"]),
    }


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.1f}×"


def table(results):
    r = results["inits"]
    rows = []

    def row(label, pick, digits=1, show_ratio=True):
        values = [pick(r[init]) for init in INITS]
        rows.append(
            [label, *[fmt(v, digits) for v in values], ratio(values[0], values[1]) if show_ratio else ""]
        )

    start = results["start"]
    rows.append(["`/bin/true` alone, median (ms)", fmt(start["true_ms"]["p50"], 2), "", "", ""])
    row("start overhead over `/bin/true`, median (ms)", lambda x: x["start"]["overhead_p50"], 2)
    row("start, `INIT -- /bin/true` p99 (ms)", lambda x: x["start"]["p99"], 2)
    with_option = start["drainit-with-option"]["overhead_p50"]
    rows.append(["start overhead of `drainit --drain 5s -- /bin/true`, median (ms)", fmt(with_option, 2), "", "", ""])
    for key, label in (("hop", "signal hop"), ("hop_load", "signal hop under orphan load")):
        for p in ("p50", "p90", "p99"):
            row(f"{label} {p} (µs)", lambda x, k=key, q=p: x[k][q], 0)
    row("orphan load achieved (processes/s)", lambda x: x["hop_load"]["load_achieved_per_s"], 0, show_ratio=False)
    orphans = r["drainit"]["reap"]["orphans"]
    row(f"reap {orphans:,} orphans (ms)", lambda x: x["reap"]["reap_ms"], 0)
    row("peak zombies seen while reaping", lambda x: x["reap"]["peak_zombies"], 0, show_ratio=False)
    row("zombies left after", lambda x: x["reap"]["zombies_left"], 0, show_ratio=False)
    row("idle RSS (MB)", lambda x: x["memory"]["idle_rss_kb"] / 1024, 2)
    row("idle PSS (MB)", lambda x: x["memory"]["idle_pss_kb"] / 1024, 2)
    row("idle USS, private pages (MB)", lambda x: x["memory"]["idle_uss_kb"] / 1024, 2)
    signals = r["drainit"]["memory"]["signals_forwarded"]
    row(f"PSS after ≥{signals:,} forwarded signals (MB)", lambda x: x["memory"]["after_pss_kb"] / 1024, 2)
    row("PSS growth (MB)", lambda x: x["memory"]["pss_growth_kb"] / 1024, 2, show_ratio=False)
    row(f"PSS growth from ≥{signals // 10:,} to ≥{signals:,} signals (MB)", lambda x: x["memory"]["pss_growth_after_warmup_kb"] / 1024, 2, show_ratio=False)
    row("signals forwarded per second in the flood", lambda x: x["memory"]["forwarded_per_s"], 0)
    row("binary size (MB)", lambda x: x["size_bytes"] / 1e6, 2)

    lines = ["| | drainit | tini | dumb-init | drainit/tini |", "|---|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    machine = results["machine"]
    lines.append("")
    lines.append(
        f"{results['date']}, {results['mode']} run, {machine['cpus']} CPUs, Linux {machine['kernel']}; "
        f"load average {machine['loadavg_at_start'][0]:.1f} before the run; "
        + ", ".join(v for v in results["versions"].values() if v)
        + "."
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
    parser.add_argument("--quick", action="store_true", help="fewer runs and orphans, 100,000 signals (about a minute)")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--drainit", metavar="PATH", help="benchmark this drainit executable instead of dist/drainit")
    args = parser.parse_args()
    global DRAINIT
    if args.drainit:
        DRAINIT = os.path.abspath(args.drainit)
        args.drainit = DRAINIT
    if os.geteuid() != 0:
        sys.exit("bench: needs root (each init runs as PID 1 of a new PID namespace)")
    if not os.access(DRAINIT, os.X_OK):
        sys.exit(f"bench: {DRAINIT} is missing: run npm run build")
    plan = QUICK if args.quick else FULL
    began = time.monotonic()
    size = os.path.getsize(DRAINIT)
    with tempfile.TemporaryDirectory(prefix="drainit-bench-") as scratch:
        # A private copy: PSS then counts every page as it would in a container, where no other
        # process maps the same file, whatever else runs on this machine.
        DRAINIT = os.path.join(scratch, "drainit")
        shutil.copy2(args.drainit or os.path.join(ROOT, "dist", "drainit"), DRAINIT)
        results = measure(args, plan, size)
    results["duration_s"] = round(time.monotonic() - began, 1)
    report(args, results)


def measure(args, plan, drainit_size):
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "plan": plan,
        "drainit": args.drainit or "dist/drainit",
        "machine": {"cpus": os.cpu_count(), "kernel": os.uname().release, "loadavg_at_start": os.getloadavg()},
        "versions": versions(),
        "inits": {init: {"size_bytes": os.path.getsize(os.path.realpath(binary(init)))} for init in INITS},
    }
    results["inits"]["drainit"]["size_bytes"] = drainit_size
    print(f"start overhead: {plan['start_runs']} runs each", file=sys.stderr)
    start = start_overhead(plan["start_runs"])
    results["start"] = start
    for init in INITS:
        results["inits"][init]["start"] = start[init]
    print(f"signal hop: {plan['hop_samples']} samples each", file=sys.stderr)
    for init, result in signal_hop(plan["hop_samples"]).items():
        results["inits"][init]["hop"] = result
    print(f"signal hop under load ({plan['load_rate']} orphans/s asked): {plan['load_samples']} samples each", file=sys.stderr)
    for init, result in signal_hop(plan["load_samples"], plan["load_rate"]).items():
        results["inits"][init]["hop_load"] = result
    for init in INITS:
        print(f"{init}:", file=sys.stderr)
        r = results["inits"][init]
        progress(f"reaping {plan['orphans']} orphans")
        r["reap"] = reaping(init, plan["orphans"])
        progress(f"memory, {plan['signals']} signals")
        r["memory"] = memory(init, plan["signals"])
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    return results


def report(args, results):
    text = table(results)
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(RESULTS, f"micro-{stamp}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\n{results['duration_s']}s; results in {os.path.relpath(path, ROOT)}", file=sys.stderr)
    if args.readme:
        update_readme(text)


if __name__ == "__main__":
    main()
