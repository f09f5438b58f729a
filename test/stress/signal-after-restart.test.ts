// A TERM sent the moment drainit has started itself again with its runtime settings (the
// self-restart's exec), before its signal handler exists: drainit keeps signals blocked across
// that exec, so the TERM waits and reaches the child, every time. Without that, the runtime
// starting up has no handler: TERM kills drainit (not PID 1) or is dropped (PID 1).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DRAINIT, childrenOf } from "../e2e/harness.ts";

const RESTARTED_MARK = "_DRAINIT_RUNTIME_SETTINGS=";

/** Whether `pid` runs the restarted drainit already (its environment is the exec's). */
function restarted(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(RESTARTED_MARK);
  } catch {
    return false;
  }
}

/** Busy-waits (the point is to be quick) until `probe` answers, or gives up after 5 s. */
function spin<T>(probe: () => T | null | false): T | null {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const value = probe();
    if (value) return value;
  }
  return null;
}

type Outcome = string;

function exited(child: ChildProcess, timeoutMs: number, onTimeout: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve("lost (no exit)");
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(signal ? `killed by ${signal}` : `exit ${code}`);
    });
  });
}

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

/** One run: start, wait for the exec, TERM at once; what came of it. */
async function termRightAfterRestart(asPid1: boolean): Promise<Outcome> {
  const argv = [DRAINIT, "--", "sleep", "30"];
  const child = asPid1
    ? spawn("unshare", ["--pid", "--fork", "--mount-proc", ...argv], { stdio: "ignore" })
    : spawn(argv[0]!, argv.slice(1), { stdio: "ignore" });
  const drainit = asPid1 ? spin(() => childrenOf(child.pid!)[0] ?? null) : child.pid!;
  const cleanUp = () => {
    if (drainit) for (const pid of childrenOf(drainit)) killQuietly(pid);
    killQuietly(drainit ?? undefined);
    killQuietly(child.pid);
  };
  const outcome = exited(child, 5_000, cleanUp);
  if (!drainit || !spin(() => restarted(drainit))) {
    cleanUp();
    return "never restarted";
  }
  process.kill(drainit, "SIGTERM");
  const result = await outcome;
  cleanUp();
  return result;
}

async function tally(runs: number, asPid1: boolean): Promise<Record<Outcome, number>> {
  const outcomes: Record<Outcome, number> = {};
  for (let i = 0; i < runs; i++) {
    const outcome = await termRightAfterRestart(asPid1);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return outcomes;
}

describe("a TERM sent right after the self-restart's exec", () => {
  it("reaches the child every time, 200 times, not as PID 1 (exit 143)", async () => {
    expect(await tally(200, false)).toEqual({ "exit 143": 200 });
  }, 300_000);

  it("reaches the child every time, 50 times, as PID 1 (exit 143)", async () => {
    expect(await tally(50, true)).toEqual({ "exit 143": 50 });
  }, 300_000);
});
