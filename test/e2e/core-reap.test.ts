// Orphans are reaped - as PID 1, and as a subreaper when drainit is not PID 1 - and the parent-death signal.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processState } from "../../src/sys/proc.ts";
import { DRAINIT, childrenOf, descendantsOf, waitFor, type InitRun } from "./harness.ts";
import {
  MAKE_ORPHANS,
  RECORD_SIGNALS,
  alsoKillAtEnd,
  linesOf,
  readyPids,
  start,
  stderrLines,
  tempDir,
} from "./core-support.ts";

const REAPED_LINE = /^drainit: reaped zombie pid=\d+ status=0$/;

function reapedLines(run: InitRun): string[] {
  return stderrLines(run.stderr).filter((line) => line.includes("reaped zombie"));
}

/** Waits until drainit logged `count` reaped orphans and no process under `root` is a zombie. */
async function waitUntilAllReaped(run: InitRun, root: number, count: number, timeoutMs: number): Promise<void> {
  await waitFor(
    () => (reapedLines(run).length >= count && descendantsOf(root).every((p) => p.state !== "Z") ? true : null),
    timeoutMs,
    `${count} orphans reaped (reaped so far: ${reapedLines(run).length}, ` +
      `zombies: ${descendantsOf(root).filter((p) => p.state === "Z").length})`,
  );
}

describe("reaping", () => {
  it("reaps 1000 orphans as PID 1 and leaves no zombie", { timeout: 120_000 }, async () => {
    const run = start(["-w", "sh", MAKE_ORPHANS, "1000"]);
    await run.waitForOutput(/orphans made/, "stdout", 90_000);
    const init = await run.initPid();
    await waitUntilAllReaped(run, init, 1000, 20_000);
    const reaped = reapedLines(run);
    expect(reaped).toHaveLength(1000);
    expect(reaped.every((line) => REAPED_LINE.test(line))).toBe(true);
    // All that is left in the namespace is the child, now a sleep.
    const left = descendantsOf(init);
    expect(left).toHaveLength(1);
    expect(left.filter((p) => p.state === "Z")).toEqual([]);
    await run.signal("SIGTERM");
    expect((await run.finished).code).toBe(143);
  });

  it("reaps orphans as a subreaper when it is not PID 1", { timeout: 60_000 }, async () => {
    const run = start(["-w", "sh", MAKE_ORPHANS, "200"], { notPid1: true });
    await run.waitForOutput(/orphans made/, "stdout", 45_000);
    const drainit = run.process.pid!;
    await waitUntilAllReaped(run, drainit, 200, 10_000);
    expect(reapedLines(run)).toHaveLength(200);
    expect(descendantsOf(drainit).filter((p) => p.state === "Z")).toEqual([]);
    process.kill(drainit, "SIGTERM");
    expect((await run.finished).code).toBe(143);
  });

  it("logs no reaped zombie without -w, one line each with -w", async () => {
    const quiet = start(["sh", MAKE_ORPHANS, "5"]);
    const loud = start(["-w", "sh", MAKE_ORPHANS, "5"]);
    await quiet.waitForOutput(/orphans made/);
    await loud.waitForOutput(/orphans made/);
    await waitUntilAllReaped(loud, await loud.initPid(), 5, 10_000);
    const quietInit = await quiet.initPid();
    await waitFor(() => (descendantsOf(quietInit).length === 1 ? true : null), 10_000, "orphans gone without -w");
    await quiet.signal("SIGTERM");
    await loud.signal("SIGTERM");
    const [quietEnd, loudEnd] = await Promise.all([quiet.finished, loud.finished]);
    expect(quietEnd.code).toBe(143);
    expect(loudEnd.code).toBe(143);
    expect(quietEnd.stderr).not.toMatch(/reaped/);
    expect(reapedLines(loud)).toHaveLength(5);
    expect(reapedLines(loud).every((line) => REAPED_LINE.test(line))).toBe(true);
  });
});

describe("--pdeathsig", () => {
  it("gets the signal when its parent dies, and forwards it", async () => {
    const file = join(tempDir(), "signals");
    // drainit (not PID 1) under a bash that the test kills.
    const run = start(["-c", '"$0" -p TERM -- bash "$1" "$2" 9 & wait', DRAINIT, RECORD_SIGNALS, file], {
      notPid1: true,
      binary: "/bin/bash",
    });
    await readyPids(run);
    const parent = run.process.pid!;
    const drainit = childrenOf(parent)[0]!;
    const recorder = childrenOf(drainit)[0]!;
    alsoKillAtEnd(drainit);
    alsoKillAtEnd(recorder);
    expect(linesOf(file)).toEqual([]);
    process.kill(parent, "SIGKILL");
    // stdout closes once drainit and the recorder, which hold it, have exited.
    await run.finished;
    expect(linesOf(file)).toEqual(["TERM"]);
    // A process closes its descriptors a moment before it is gone: give the exit that moment.
    for (const pid of [drainit, recorder]) {
      await waitFor(() => ([null, "Z"].includes(processState(pid)) ? true : null), 5_000, `process ${pid} to end`);
    }
  });
});
