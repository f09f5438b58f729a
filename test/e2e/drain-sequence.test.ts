// The drain sequence end to end, drainit as PID 1 with real time: when the stop signal is
// forwarded, what cuts the drain short, --stop-signal, --budget, --grace and the timeline.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { childrenOf, runInit, sleep, trackedRuns, waitFor, type Finished, type InitRun } from "./harness.ts";
import {
  HTTP_APP,
  SIGNAL_RECORDER,
  appEvents,
  isAlive,
  type AppEvent,
  measured,
  signalAt,
  statusOf,
  textTimeline,
  waitForEvent,
} from "./drain-support.ts";

const start = trackedRuns();
const strays: number[] = [];
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
});

describe("forwarding after --drain 1s --rewrite TERM:QUIT", () => {
  const drainMs = 1_000;
  // One run, watched from outside; each test below states one thing it showed.
  let sentAt = 0;
  let received: AppEvent;
  const answers: { status: number; at: number }[] = [];
  let signalsAtApp: (string | undefined)[] = [];
  let result: Finished;

  beforeAll(async () => {
    const run = runInit(["--drain", "1s", "--rewrite", "TERM:QUIT", "--", ...HTTP_APP]);
    try {
      const { port } = await waitForEvent(run, "listening");
      const app = `http://127.0.0.1:${port}/`;
      answers.push({ status: await statusOf(app), at: Date.now() });
      sentAt = await signalAt(run, "SIGTERM");
      // Ask the app continuously until it gets its signal.
      while (!appEvents(run).some((e) => e.event === "signal")) {
        const status = await statusOf(app, 500);
        answers.push({ status, at: Date.now() });
        await sleep(20);
      }
      received = await waitForEvent(run, "signal");
      signalsAtApp = appEvents(run).filter((e) => e.event === "signal").map((e) => e.signal);
      result = await run.finished;
    } finally {
      run.kill();
    }
  });

  it("passes on the rewritten signal, never TERM itself", () => {
    expect(received.signal).toBe("SIGQUIT");
    expect(signalsAtApp).toEqual(["SIGQUIT"]);
  });

  it("forwards no earlier than --drain, and not much later", () => {
    const lag = received.at! - sentAt;
    measured("stop signal forwarded after SIGTERM (--drain 1s)", lag);
    measured("forwarding lag beyond --drain", lag - drainMs);
    expect(lag).toBeGreaterThanOrEqual(drainMs);
    expect(lag).toBeLessThan(drainMs + 1_000);
  });

  it("keeps the app answering 200 until it gets the signal", () => {
    expect(answers[0]!.status).toBe(200);
    const inDrain = answers.filter((a) => a.at < received.at!);
    expect(inDrain.length).toBeGreaterThanOrEqual(3);
    expect(inDrain.every((a) => a.status === 200)).toBe(true);
  });

  it("exits with the child's code", () => {
    expect(result.code).toBe(0);
  });

  it("logs a timeline whose times follow the sequence", () => {
    const timeline = textTimeline(result.stderr);
    expect(timeline).toMatchObject({ stop: "TERM", forwarded: "QUIT", child: "exited(0)", exit_code: "0" });
    expect(Number(timeline.forwarded_ms)).toBeGreaterThanOrEqual(drainMs);
    expect(Number(timeline.forwarded_ms)).toBeLessThan(drainMs + 1_000);
    expect(Number(timeline.child_ms)).toBeGreaterThanOrEqual(Number(timeline.forwarded_ms));
    expect(Number(timeline.total_ms)).toBeGreaterThanOrEqual(Number(timeline.child_ms));
  });
});

describe("the timeline", () => {
  it("logs the timeline as one JSON object with --log-format json", async () => {
    const run = start([
      "--log-format", "json", "--drain", "300ms", "--rewrite", "TERM:USR1",
      "--", ...SIGNAL_RECORDER, "--exit-on", "SIGUSR1", "--exit-code", "5",
    ]);
    await waitForEvent(run, "ready");
    await signalAt(run, "SIGTERM");
    const result = await run.finished;
    expect(result.code).toBe(5);
    const lines = result.stderr.trim().split("\n");
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const timelines = records.filter((r) => r.msg === "timeline");
    expect(timelines).toHaveLength(1);
    expect(timelines[0]).toMatchObject({
      level: "info",
      stop: "TERM",
      forwarded: "USR1",
      child: "exited(5)",
      exit_code: 5,
    });
    expect(timelines[0]!.forwarded_ms).toBeGreaterThanOrEqual(300);
    expect(timelines[0]!.forwarded_ms).toBeLessThan(1_300);
    expect(typeof timelines[0]!.total_ms).toBe("number");
    expect(typeof timelines[0]!.time).toBe("string");
  });
});

describe("cutting the drain short", () => {
  it("forwards at once on a second SIGTERM", async () => {
    const run = start(["--drain", "30s", "--", ...SIGNAL_RECORDER]);
    await waitForEvent(run, "ready");
    const firstAt = await signalAt(run, "SIGTERM");
    await run.waitForOutput(/TERM received: draining/, "stderr");
    await sleep(300);
    expect(appEvents(run).some((e) => e.event === "signal")).toBe(false);
    const secondAt = await signalAt(run, "SIGTERM");
    const received = await waitForEvent(run, "signal", "SIGTERM");
    measured("forwarding after the second SIGTERM", received.at! - secondAt);
    expect(received.at! - secondAt).toBeLessThan(1_000);
    expect(received.at! - firstAt).toBeLessThan(5_000);
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/second TERM: skipping the rest of the drain/);
  });

  it("forwards again on a third SIGTERM", async () => {
    // This app shrugs TERM off: every stop signal drainit passes on shows up.
    const run = start(["--drain", "30s", "--", ...SIGNAL_RECORDER, "--exit-on", "SIGUSR2"]);
    await waitForEvent(run, "ready");
    await signalAt(run, "SIGTERM");
    await run.waitForOutput(/TERM received: draining/, "stderr");
    await signalAt(run, "SIGTERM");
    await waitForEvent(run, "signal", "SIGTERM");
    await signalAt(run, "SIGTERM");
    const terms = () => appEvents(run).filter((e) => e.signal === "SIGTERM");
    await waitFor(() => (terms().length === 2 ? true : null), 5_000, "a second TERM at the app");
    await signalAt(run, "SIGUSR2");
    expect((await run.finished).code).toBe(0);
    expect(terms()).toHaveLength(2);
  });

  it("exits at once with the child's code when the child exits during the drain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "drainit-e2e-"));
    const run = start(
      ["--drain", "30s", "--", "sh", "-c", "echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 7"],
      { cwd: dir },
    );
    await run.waitForOutput(/ready/);
    await signalAt(run, "SIGTERM");
    await run.waitForOutput(/TERM received: draining/, "stderr");
    const goAt = Date.now();
    writeFileSync(join(dir, "go"), "");
    const result = await run.finished;
    const took = Date.now() - goAt;
    measured("drainit exit after the child exited during a 30s drain", took);
    expect(result.code).toBe(7);
    expect(took).toBeLessThan(3_000);
    expect(result.stderr).toMatch(/child exited during the drain/);
    const timeline = textTimeline(result.stderr);
    expect(timeline.child).toBe("exited(7)");
    expect(timeline.forwarded).toBeUndefined();
  });
});

describe("--stop-signal", () => {
  it("drains on INT (Fly, Nomad) while TERM is simply forwarded", async () => {
    const run = start(["--stop-signal", "INT", "--drain", "1s", "--", ...SIGNAL_RECORDER, "--exit-on", "SIGINT"]);
    await waitForEvent(run, "ready");
    const termAt = await signalAt(run, "SIGTERM");
    const term = await waitForEvent(run, "signal", "SIGTERM");
    measured("plain forwarding of TERM with --stop-signal INT", term.at! - termAt);
    expect(term.at! - termAt).toBeLessThan(1_000);
    expect(run.stderr).not.toMatch(/draining/);

    const intAt = await signalAt(run, "SIGINT");
    const int = await waitForEvent(run, "signal", "SIGINT");
    measured("INT forwarded after the 1s drain", int.at! - intAt);
    expect(int.at! - intAt).toBeGreaterThanOrEqual(1_000);
    expect(int.at! - intAt).toBeLessThan(2_000);
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(textTimeline(result.stderr)).toMatchObject({ stop: "INT", forwarded: "INT" });
  });
});

describe("--budget", () => {
  it("warns at start-up when the plan exceeds it, and forwards by budget minus grace", async () => {
    const run = start(["--budget", "3s", "--grace", "1500ms", "--drain", "20s", "--", ...SIGNAL_RECORDER]);
    // The warning comes at start-up, before any signal.
    await run.waitForOutput(/exceeds --budget 3000ms/, "stderr");
    await waitForEvent(run, "ready");
    const sentAt = await signalAt(run, "SIGTERM");
    const received = await waitForEvent(run, "signal", "SIGTERM");
    measured("forwarding with --budget 3s --grace 1500ms --drain 20s", received.at! - sentAt);
    expect(received.at! - sentAt).toBeGreaterThanOrEqual(1_500);
    expect(received.at! - sentAt).toBeLessThan(2_500);
    expect((await run.finished).code).toBe(0);
  });

  it("does not warn when the plan fits", async () => {
    const run = start(["--budget", "10s", "--grace", "2s", "--drain", "1s", "--", "sh", "-c", "exit 0"]);
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/budget/);
  });
});

describe("--grace", () => {
  const IGNORES_TERM = "trap '' TERM; sleep 1001 & sleep 1002 & echo ready; wait";

  /** The child shell and its two sleeps, as host pids. */
  async function processTree(run: InitRun): Promise<number[]> {
    const init = await run.initPid();
    const [shell] = await waitFor(() => (childrenOf(init).length ? childrenOf(init) : null), 5_000, "the child");
    const sleeps = await waitFor(
      () => (childrenOf(shell!).length === 2 ? childrenOf(shell!) : null),
      5_000,
      "the grandchildren",
    );
    return [shell!, ...sleeps];
  }

  it("SIGKILLs a child that ignores TERM, with its grandchildren, at --grace (as PID 1)", async () => {
    const graceMs = 2_000;
    const run = start(["-v", "--drain", "200ms", "--grace", "2s", "--", "sh", "-c", IGNORES_TERM]);
    await run.waitForOutput(/ready/);
    const tree = await processTree(run);
    const sentAt = await signalAt(run, "SIGTERM");
    await run.waitForOutput(/forwarded stop signal/, "stderr");
    const forwardedAt = Date.now();
    // TERM reached them all and changed nothing.
    expect(tree.every(isAlive)).toBe(true);
    const result = await run.finished;
    const endedAt = Date.now();
    measured("exit after SIGTERM with --drain 200ms --grace 2s", endedAt - sentAt);
    expect(result.code).toBe(128 + 9);
    expect(endedAt - forwardedAt).toBeGreaterThanOrEqual(graceMs - 300);
    expect(endedAt - sentAt).toBeLessThan(200 + graceMs + 2_000);
    const timeline = textTimeline(result.stderr);
    expect(timeline.child).toBe("killed(KILL)");
    expect(Number(timeline.sigkill_ms)).toBeGreaterThanOrEqual(200 + graceMs);
    expect(Number(timeline.sigkill_ms)).toBeLessThan(200 + graceMs + 1_000);
    expect(tree.some(isAlive)).toBe(false);
  });

  it("kills the grandchildren itself: not as PID 1, nothing else would", async () => {
    const run = start(["-v", "--drain", "200ms", "--grace", "1s", "--", "sh", "-c", IGNORES_TERM], { notPid1: true });
    await run.waitForOutput(/ready/);
    const tree = await processTree(run);
    strays.push(...tree);
    await signalAt(run, "SIGTERM");
    await run.waitForOutput(/forwarded stop signal/, "stderr");
    expect(tree.every(isAlive)).toBe(true);
    const result = await run.finished;
    expect(result.code).toBe(128 + 9);
    // Orphans outlive a dead parent unless something kills them: give the kernel a moment.
    await waitFor(() => (tree.some(isAlive) ? null : true), 2_000, "the whole tree to be gone");
  });
});
