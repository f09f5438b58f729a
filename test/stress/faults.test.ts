// Faults in what drainit starts: hooks that fail in every way, children that misbehave.
// In every case the sequence goes on and drainit exits with the child's code.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processState } from "../../src/sys/proc.ts";
import { textTimeline } from "../e2e/drain-support.ts";
import { DRAINIT, freePort, runInit, runToExit, sleep, waitFor, type InitRun } from "../e2e/harness.ts";
import { directChildren, endProcessesWithMarker, figure, processesWithMarker } from "./stress-support.ts";

const scratch = mkdtempSync(join(tmpdir(), "drainit-faults-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A child that exits 3 on TERM, reporting it. */
const TRAPPING_CHILD = ["sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.02; done"];

/** Starts the child with these options, sends TERM once it is ready, waits for the end. */
async function stopWith(options: string[], env?: NodeJS.ProcessEnv): Promise<{ run: InitRun; timeline: Record<string, string> }> {
  const run = runInit([...options, "--", ...TRAPPING_CHILD], env ? { env } : undefined);
  try {
    await run.waitForOutput(/ready/);
    await run.signal("SIGTERM");
    const result = await run.finished;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toContain("got-term");
    return { run, timeline: textTimeline(result.stderr) };
  } finally {
    run.kill();
  }
}

/** An HTTP server on 127.0.0.1 for hook URLs; `respond` decides what each request gets. */
async function hookServer(respond: (reply: (status: number) => void) => void): Promise<{ url: string; server: Server; calls: () => number }> {
  let calls = 0;
  const server = createServer((request, response) => {
    calls += 1;
    request.resume();
    respond((status) => response.writeHead(status).end("drain\n"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/drain`, server, calls: () => calls };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("faults in the drain hook", () => {
  it("goes on when the hook command is not found", async () => {
    const { run, timeline } = await stopWith(["--drain-hook", "drainit-no-such-hook --flag"]);
    expect(timeline).toMatchObject({ hook: "failed", forwarded: "TERM", exit_code: "3" });
    expect(run.stderr).toMatch(/drain hook failed: cannot run 'drainit-no-such-hook'/);
  });

  it("goes on when the hook is not executable", async () => {
    const hook = join(scratch, "hook-not-executable");
    writeFileSync(hook, "#!/bin/sh\nexit 0\n");
    chmodSync(hook, 0o644);
    const { run, timeline } = await stopWith(["--drain-hook", hook]);
    expect(timeline).toMatchObject({ hook: "failed", forwarded: "TERM", exit_code: "3" });
    expect(run.stderr).toMatch(/drain hook failed: cannot run '.*hook-not-executable': Permission denied/);
  });

  it("kills a hook that hangs at --hook-timeout and forwards", async () => {
    const { timeline } = await stopWith(["--drain-hook", "sleep 60", "--hook-timeout", "400ms"]);
    expect(timeline).toMatchObject({ hook: "timeout", forwarded: "TERM" });
    expect(Number(timeline.forwarded_ms)).toBeGreaterThanOrEqual(390);
    expect(Number(timeline.forwarded_ms)).toBeLessThan(3_000);
  });

  it("does not wait for what a hook leaves running, and ends it before exiting", async () => {
    const marker = `FAULT_MARK=hook-leftovers-${process.pid}`;
    const env = { PATH: process.env.PATH!, FAULT_MARK: marker.split("=")[1]! };
    const run = runInit(
      // The background processes let go of the output pipes, so the run's end can be seen.
      ["--drain-hook", "sh -c 'sleep 60 >/dev/null 2>&1 & sleep 60 >/dev/null 2>&1 & echo hook-done'", "--", ...TRAPPING_CHILD],
      { env, notPid1: true },
    );
    try {
      await run.waitForOutput(/ready/);
      await run.signal("SIGTERM");
      const result = await run.finished;
      expect(result.code).toBe(3);
      const timeline = textTimeline(result.stderr);
      expect(timeline).toMatchObject({ hook: "exited(0)", forwarded: "TERM" });
      expect(Number(timeline.forwarded_ms)).toBeLessThan(3_000);
      // Not PID 1 here: nothing else would end the hook's background processes.
      expect(endProcessesWithMarker(marker)).toEqual([]);
    } finally {
      run.kill();
    }
  });

  it("passes on megabytes of hook output and goes on", async () => {
    const bytes = 8_000_000;
    const { run, timeline } = await stopWith(["--drain-hook", `sh -c 'head -c ${bytes} /dev/zero | tr "\\0" x'`]);
    expect(timeline, run.stderr).toMatchObject({ hook: "exited(0)", forwarded: "TERM" });
    expect(run.stdout.split("x").length - 1).toBe(bytes);
  });

  it("goes on when the hook URL refuses the connection", async () => {
    const port = await freePort();
    const { run, timeline } = await stopWith(["--drain-hook", `http://127.0.0.1:${port}/drain`]);
    expect(timeline).toMatchObject({ hook: "failed", forwarded: "TERM", exit_code: "3" });
    expect(run.stderr).toMatch(/drain hook failed: POST http:\/\/127\.0\.0\.1/);
  });

  it("aborts a hook URL that never answers at --hook-timeout", async () => {
    const { url, server, calls } = await hookServer(() => {});
    try {
      const { timeline } = await stopWith(["--drain-hook", url, "--hook-timeout", "500ms"]);
      expect(calls()).toBe(1);
      expect(timeline).toMatchObject({ hook: "timeout", forwarded: "TERM" });
      expect(Number(timeline.forwarded_ms)).toBeGreaterThanOrEqual(490);
      expect(Number(timeline.forwarded_ms)).toBeLessThan(3_000);
    } finally {
      await closeServer(server);
    }
  });

  it("logs a hook URL that answers 500 and goes on", async () => {
    const { url, server, calls } = await hookServer((reply) => reply(500));
    try {
      const { run, timeline } = await stopWith(["--drain-hook", url]);
      expect(calls()).toBe(1);
      expect(timeline).toMatchObject({ hook: "http(500)", forwarded: "TERM", exit_code: "3" });
      expect(run.stderr).toMatch(/drain hook failed; going on/);
    } finally {
      await closeServer(server);
    }
  });
});

describe("faults in the child", () => {
  it("passes on the code of a child that exits before drainit has finished starting", async () => {
    const runs = 20;
    const durations: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const result = await runToExit(["--health", "127.0.0.1:0", "--", "sh", "-c", "exit 7"]);
      durations.push(performance.now() - started);
      expect(result.code, result.stderr).toBe(7);
      expect(result.stderr).toBe("");
    }
    durations.sort((a, b) => a - b);
    figure("child exiting at once: drainit's run time (median, max)", `${Math.round(durations[runs >> 1]!)} ms, ${Math.round(durations.at(-1)!)} ms`);
  });

  it("is not disturbed by a child that closes its stdout and stderr", async () => {
    const result = await runToExit(["-v", "--", "sh", "-c", "exec 1>&- 2>&-; sleep 0.2; exit 4"]);
    expect(result.code).toBe(4);
  });

  it("hands the child its output pipes blocking: a fast writer meets no EAGAIN", async () => {
    const bytes = 8_000_000;
    const result = await runToExit(["--", "sh", "-c", `head -c ${bytes} /dev/zero | tr '\\0' x || exit 9; exit 6`]);
    expect(result.code, result.stderr).toBe(6);
    expect(result.stderr).not.toMatch(/temporarily unavailable/);
    expect(result.stdout.length).toBe(bytes);
  });

  it("is not disturbed when nobody reads its own stderr any more", async () => {
    const child = spawn("unshare", ["--pid", "--fork", "--mount-proc", DRAINIT, "-vvv", "--", "sh", "-c", "sleep 0.3; exit 4"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Close the reading ends at once: every log line drainit writes meets EPIPE.
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(code).toBe(4);
  });

  it("SIGKILLs a child that ignores TERM, and its grandchildren that ignore it too, at --grace", async () => {
    const marker = `FAULT_MARK=grace-${process.pid}`;
    const env = { PATH: process.env.PATH!, FAULT_MARK: marker.split("=")[1]! };
    const stubborn =
      "trap '' TERM; (trap '' TERM; sleep 60) & (trap '' TERM; sleep 60) & echo ready; while :; do sleep 0.02; done";
    // Not PID 1: the grandchildren must die of drainit's SIGKILL, not of the namespace ending.
    const run = runInit(["--grace", "700ms", "--", "sh", "-c", stubborn], { env, notPid1: true });
    try {
      await run.waitForOutput(/ready/);
      expect(processesWithMarker(marker).length).toBeGreaterThanOrEqual(3);
      await run.signal("SIGTERM");
      const result = await run.finished;
      expect(result.code).toBe(137);
      const timeline = textTimeline(result.stderr);
      expect(timeline).toMatchObject({ forwarded: "TERM", child: "killed(KILL)" });
      expect(Number(timeline.sigkill_ms)).toBeGreaterThanOrEqual(690);
      expect(Number(timeline.sigkill_ms)).toBeLessThan(3_000);
      await sleep(100);
      expect(endProcessesWithMarker(marker)).toEqual([]);
    } finally {
      run.kill();
    }
  });

  it("forwards to a child that moved to a new session and process group (--single-child)", async () => {
    const child = ["perl", "-MPOSIX", "-e", '$|=1; POSIX::setsid() or die "setsid: $!"; $SIG{TERM} = sub { print "got-term\\n"; exit 5 }; print "ready\\n"; sleep 1 while 1'];
    const run = runInit(["--single-child", "--", ...child]);
    try {
      await run.waitForOutput(/ready/);
      await run.signal("SIGTERM");
      const result = await run.finished;
      expect(result.code, result.stderr).toBe(5);
      expect(result.stdout).toContain("got-term");
    } finally {
      run.kill();
    }
  });

  it("does not wait forever for a grandchild that left the child's process group", async () => {
    const escaped = "perl -MPOSIX -e 'setpgid(0, 0); $SIG{TERM} = q(IGNORE); sleep 60'";
    const run = runInit(["--", "sh", "-c", `${escaped} & trap 'exit 3' TERM; echo ready; while :; do sleep 0.02; done`]);
    try {
      await run.waitForOutput(/ready/);
      await run.signal("SIGTERM");
      const started = performance.now();
      const result = await run.finished;
      expect(result.code).toBe(3);
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      run.kill();
    }
  });

  it("stops draining at once when the child is SIGKILLed from outside during the drain", async () => {
    const run = runInit(["--drain", "10s", "--", ...TRAPPING_CHILD]);
    try {
      await run.waitForOutput(/ready/);
      const init = await run.initPid();
      await run.signal("SIGTERM");
      await run.waitForOutput(/TERM received: draining/, "stderr");
      const child = await waitFor(
        () => directChildren(init).find((pid) => processState(pid) !== "Z") ?? null,
        5_000,
        "the child",
      );
      process.kill(child, "SIGKILL");
      const killedAt = performance.now();
      const result = await run.finished;
      expect(result.code).toBe(137);
      expect(performance.now() - killedAt).toBeLessThan(3_000);
      const timeline = textTimeline(result.stderr);
      expect(timeline).toMatchObject({ child: "killed(KILL)", exit_code: "137" });
      expect(timeline.forwarded).toBeUndefined();
    } finally {
      run.kill();
    }
  });
});
