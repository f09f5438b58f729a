// Every signal 1-64 (but KILL, STOP and glibc's 32 and 33) reaches the app through drainit,
// as PID 1 and not, sent from outside and from inside the namespace; drainit survives every
// one, kill-sent SEGV/ABRT/BUS/FPE/ILL included. Also: what the child starts with, the fallback
// when the handler cannot be installed, and the sender's pid at -v.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPERS, DRAINIT, runInit } from "./harness.ts";
import { linesOf, readyPids, start, tempDir, waitForLine } from "./core-support.ts";

const RECORD_ALL = join(HELPERS, "record-all-signals.pl");
/** TSTP, TTIN and TTOU become STOP in group mode unless rewritten to themselves. */
const KEEP_STOPS = ["-r", "TSTP:TSTP", "-r", "TTIN:TTIN", "-r", "TTOU:TTOU"];
/** Every signal the app must receive: all but KILL, STOP, 32, 33 and CHLD (drainit's to reap on). TERM last: it ends the run. */
const TABLE = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => ![9, 15, 17, 19, 32, 33].includes(n));
const ORDER = [...TABLE, 15];

async function sendTableFromOutside(notPid1: boolean): Promise<{ recorded: string[]; code: number | null }> {
  const file = join(tempDir(), "signals");
  const run = start([...KEEP_STOPS, "perl", RECORD_ALL, file, "42"], { notPid1 });
  await readyPids(run);
  const pid = await run.initPid();
  for (const signal of ORDER) {
    process.kill(pid, signal);
    await waitForLine(file, String(signal), 5_000);
  }
  const { code } = await run.finished;
  return { recorded: linesOf(file), code };
}

describe("the whole signal table", () => {
  it("reaches the app when sent from outside to drainit as PID 1", async () => {
    const { recorded, code } = await sendTableFromOutside(false);
    expect(recorded).toEqual(ORDER.map(String));
    expect(code).toBe(42);
  }, 60_000);

  it("reaches the app when sent to drainit not as PID 1", async () => {
    const { recorded, code } = await sendTableFromOutside(true);
    expect(recorded).toEqual(ORDER.map(String));
    expect(code).toBe(42);
  }, 60_000);

  it("reaches the app when the app itself sends each to PID 1 from inside the namespace", async () => {
    const file = join(tempDir(), "signals");
    const run = start([...KEEP_STOPS, "perl", RECORD_ALL, file, "42", ORDER.join(",")]);
    const { code } = await run.finished;
    expect(linesOf(file)).toEqual(ORDER.map(String));
    expect(code).toBe(42);
  }, 60_000);

  it("forwards SIGRTMIN+3 as the stop signal (systemd-style images)", async () => {
    const file = join(tempDir(), "signals");
    const run = start(["--stop-signal", "SIGRTMIN+3", "--drain", "100ms", "perl", RECORD_ALL, file, "42"]);
    await readyPids(run);
    await run.signal(37);
    await waitForLine(file, "37");
    await run.signal("SIGTERM");
    expect((await run.finished).code).toBe(42);
    expect(run.stderr).toMatch(/RTMIN\+3 received: draining/);
  });

  it("survives a kill-sent ABRT from its own child and forwards it like dumb-init", async () => {
    const run = start(["sh", "-c", "trap 'echo got ABRT' ABRT; sleep 0.5; kill -ABRT 1; sleep 2; echo survived"]);
    const { code, stdout } = await run.finished;
    expect(stdout).toContain("got ABRT");
    expect(stdout).toContain("survived");
    expect(code).toBe(0);
  });
});

describe("the child and hooks start clean", () => {
  it("with no signal blocked or ignored, although drainit blocks signals while it restarts", async () => {
    const dir = tempDir();
    const hookFile = join(dir, "hook");
    // What grep itself started with, as sh got it: sh's own mask is not a witness, since dash
    // blocks every signal for an instant around each command it starts.
    const show = "grep -E '^Sig(Blk|Ign):' /proc/self/status";
    const run = start([
      "--drain-hook",
      `sh -c 'grep -E ^Sig[BI] /proc/self/status > ${hookFile}'`,
      "sh",
      "-c",
      `${show}; echo ready $$; trap 'exit 0' TERM; while :; do sleep 0.05; done`,
    ]);
    await readyPids(run);
    await run.signal("SIGTERM");
    await run.finished;
    const clean = ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"];
    expect(run.stdout.split("\n").filter((line) => line.startsWith("Sig"))).toEqual(clean);
    expect(linesOf(hookFile)).toEqual(clean);
  });
});

describe("without its signal handler", () => {
  // vm.memfd_noexec=2 (a hardening setting, scoped to a PID namespace) forbids executable
  // memory files: the handler cannot be loaded, and drainit falls back to the runtime's listeners.
  it("says so in one line and still forwards what the runtime's listeners get", async () => {
    const script = `echo 2 > /proc/sys/vm/memfd_noexec && exec "$0" "$@"`;
    const app = "trap 'echo got USR1' USR1; kill -USR1 1; sleep 0.3; echo done";
    const run = runInit(["-c", script, DRAINIT, "--single-child", "sh", "-c", app], { binary: "sh" });
    try {
      const { code, stdout, stderr } = await run.finished;
      expect(stderr.split("\n").filter(Boolean)).toEqual([
        "drainit: cannot install its signal handler (memfd_create: Permission denied): only the signals the runtime lets it listen to are forwarded",
      ]);
      expect(stdout).toBe("got USR1\ndone\n");
      expect(code).toBe(0);
    } finally {
      run.kill();
    }
  });
});

describe("-v", () => {
  it("logs the sender's pid of each signal", async () => {
    const run = start(["-v", "-c", "sh", "-c", "trap '' HUP; echo sender=$$; kill -HUP 1; sleep 0.3"]);
    const { code, stdout, stderr } = await run.finished;
    expect(code).toBe(0);
    const sender = /sender=(\d+)/.exec(stdout)![1];
    expect(stderr).toContain(`drainit: received signal signal=HUP from=${sender}\n`);
  });
});
