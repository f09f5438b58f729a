// Signals sent to drainit as PID 1 reach the child (or its whole group), rewritten or dropped as asked.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processState } from "../../src/sys/proc.ts";
import { childrenOf, sleep, waitFor } from "./harness.ts";
import {
  FORWARDABLE,
  RECORD_SIGNALS,
  linesOf,
  readyPids,
  start,
  tempDir,
  usr1InFamily,
  waitForLine,
} from "./core-support.ts";

/** Sends each signal to drainit and waits until the recorder wrote it down before the next. */
async function sendOneByOne(
  args: string[],
  signals: readonly string[],
): Promise<{ recorded: string[]; code: number | null }> {
  const file = join(tempDir(), "signals");
  const run = start([...args, "bash", RECORD_SIGNALS, file, "42"]);
  await readyPids(run);
  for (const signal of signals) {
    await run.signal(`SIG${signal}` as NodeJS.Signals);
    await waitForLine(file, signal);
  }
  const { code } = await run.finished;
  return { recorded: linesOf(file), code };
}

describe("signal forwarding", () => {
  it("forwards every forwardable signal to the child's group (TSTP/TTIN/TTOU kept by --rewrite)", async () => {
    const keepStops = ["-r", "TSTP:TSTP", "-r", "TTIN:TTIN", "-r", "TTOU:TTOU"];
    const order = [...FORWARDABLE.filter((s) => s !== "TERM"), "TERM"];
    const { recorded, code } = await sendOneByOne(keepStops, order);
    expect(recorded).toEqual(order);
    expect(code).toBe(42);
  });

  it("forwards every forwardable signal to the child alone with -c", async () => {
    const order = [...FORWARDABLE.filter((s) => s !== "TERM"), "TERM"];
    const { recorded, code } = await sendOneByOne(["-c"], order);
    expect(recorded).toEqual(order);
    expect(code).toBe(42);
  });

  it.each(["SIGTSTP", "SIGTTIN", "SIGTTOU"] as const)("turns %s into STOP in group mode; CONT resumes", async (stop) => {
    const file = join(tempDir(), "signals");
    const run = start(["bash", RECORD_SIGNALS, file]);
    await readyPids(run);
    const child = childrenOf(await run.initPid())[0]!;
    await run.signal(stop);
    await waitFor(() => (processState(child) === "T" ? true : null), 10_000, "the child to be stopped");
    await run.signal("SIGCONT");
    await waitForLine(file, "CONT");
    expect(processState(child)).not.toBe("T");
    expect(linesOf(file)).toEqual(["CONT"]);
  });

  it("reaches a grandchild in group mode", async () => {
    const { child, grandchild } = await usr1InFamily([]);
    expect(child).toEqual(["USR1"]);
    expect(grandchild).toEqual(["USR1"]);
  });

  it("does not reach a grandchild with -c", async () => {
    const { child, grandchild } = await usr1InFamily(["-c"]);
    expect(child).toEqual(["USR1"]);
    expect(grandchild).toEqual([]);
  });

  it.each([
    ["names", ["--rewrite", "USR1:USR2"]],
    ["SIG names", ["-r", "SIGUSR1:SIGUSR2"]],
    ["numbers", ["-r", "10:12"]],
  ])("rewrites a signal given by %s", async (_, rewrite) => {
    const file = join(tempDir(), "signals");
    const run = start([...rewrite, "bash", RECORD_SIGNALS, file]);
    await readyPids(run);
    await run.signal("SIGUSR1");
    await waitForLine(file, "USR2");
    await run.signal("SIGHUP");
    await waitForLine(file, "HUP");
    expect(linesOf(file)).toEqual(["USR2", "HUP"]);
  });

  it("rewrites the stop signal too", async () => {
    const file = join(tempDir(), "signals");
    const run = start(["--rewrite", "TERM:QUIT", "bash", RECORD_SIGNALS, file]);
    await readyPids(run);
    await run.signal("SIGTERM");
    await waitForLine(file, "QUIT");
    await sleep(300);
    expect(linesOf(file)).toEqual(["QUIT"]);
  });

  it.each([["USR1:0"], ["10:0"]])("drops a signal rewritten to 0 (%s)", async (rewrite) => {
    const file = join(tempDir(), "signals");
    const run = start(["-r", rewrite, "bash", RECORD_SIGNALS, file]);
    await readyPids(run);
    await run.signal("SIGUSR1");
    await run.signal("SIGHUP");
    await waitForLine(file, "HUP");
    await sleep(300);
    expect(linesOf(file)).toEqual(["HUP"]);
  });

  it("survives a burst of 2000 USR1, then forwards TERM and exits with the child's code", async () => {
    const file = join(tempDir(), "signals");
    const run = start(["bash", RECORD_SIGNALS, file, "42"]);
    await readyPids(run);
    const pid = await run.initPid();
    for (let i = 0; i < 2000; i++) process.kill(pid, "SIGUSR1");
    process.kill(pid, "SIGTERM");
    const { code, signal } = await run.finished;
    expect(signal).toBeNull();
    expect(code).toBe(42);
    const recorded = linesOf(file);
    expect(recorded).toContain("USR1");
    // Pending signals carry no order the kernel or bash keeps: a USR1 trap may still run as the
    // TERM trap exits. What matters is that TERM arrived, once, through drainit.
    expect(recorded.filter((name) => name === "TERM")).toEqual(["TERM"]);
  });
});
