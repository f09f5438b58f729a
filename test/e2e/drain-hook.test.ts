// --drain-hook end to end, drainit as PID 1: command hooks (with and without a shell) and
// HTTP hooks run before the stop signal is forwarded, in drainit's starting directory;
// a failing hook is logged, a hanging one killed at --hook-timeout, and the sequence goes on.
import { mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { childrenOf, trackedRuns, waitFor } from "./harness.ts";
import {
  NODE,
  SIGNAL_RECORDER,
  STAMP,
  isAlive,
  measured,
  signalAt,
  textTimeline,
  waitForEvent,
} from "./drain-support.ts";

const start = trackedRuns();
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

const tempDir = () => realpathSync(mkdtempSync(join(tmpdir(), "drainit-e2e-")));
const readStamp = (file: string) => JSON.parse(readFileSync(file, "utf8")) as { at: number; cwd: string };

interface HookCall {
  method: string;
  url: string;
  at: number;
  answeredAt?: number;
}

/** An HTTP server on 127.0.0.1 that records each request and answers `status` after `delayMs`. */
async function hookServer(status: number, delayMs: number): Promise<{ url: string; calls: HookCall[] }> {
  const calls: HookCall[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const call: HookCall = { method: request.method!, url: request.url!, at: Date.now() };
    calls.push(call);
    request.resume();
    setTimeout(() => {
      call.answeredAt = Date.now();
      response.writeHead(status).end("drained\n");
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/drain`, calls };
}

describe("command hooks", () => {
  it("runs a plain argv hook (no shell) before forwarding, in drainit's directory", async () => {
    const dir = tempDir();
    // The hook takes longer than the drain: forwarding waits for it.
    const run = start(
      ["--drain", "200ms", "--drain-hook", `'${NODE}' '${STAMP}' argv-hook.json 800`, "--", ...SIGNAL_RECORDER],
      { cwd: dir },
    );
    await waitForEvent(run, "ready");
    const sentAt = await signalAt(run, "SIGTERM");
    const received = await waitForEvent(run, "signal", "SIGTERM");
    // A relative path in the hook's arguments landed in drainit's starting directory.
    const stamp = readStamp(join(dir, "argv-hook.json"));
    expect(stamp.cwd).toBe(dir);
    expect(stamp.at).toBeLessThanOrEqual(received.at!);
    expect(stamp.at - sentAt).toBeGreaterThanOrEqual(800);
    measured("forwarding after a hook's end (hook 800ms, drain 200ms)", received.at! - stamp.at);

    const result = await run.finished;
    expect(result.code).toBe(0);
    const timeline = textTimeline(result.stderr);
    expect(timeline.hook).toBe("exited(0)");
    expect(Number(timeline.hook_ms)).toBeGreaterThanOrEqual(800);
    expect(Number(timeline.forwarded_ms)).toBeGreaterThanOrEqual(Number(timeline.hook_ms));
    expect(result.stderr).toMatch(/drain hook done result=exited\(0\)/);
  });

  it("runs a shell hook written as sh -c, logs its failure and goes on", async () => {
    const dir = tempDir();
    const script = `'${NODE}' '${STAMP}' sh-hook.json 300; pwd > sh-hook.cwd; exit 3`;
    const run = start(["--drain", "100ms", "--drain-hook", `sh -c "${script}"`, "--", ...SIGNAL_RECORDER], {
      cwd: dir,
    });
    await waitForEvent(run, "ready");
    await signalAt(run, "SIGTERM");
    const received = await waitForEvent(run, "signal", "SIGTERM");
    const stamp = readStamp(join(dir, "sh-hook.json"));
    expect(stamp.at).toBeLessThanOrEqual(received.at!);
    expect(readFileSync(join(dir, "sh-hook.cwd"), "utf8").trim()).toBe(dir);

    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/drain hook failed; going on result=exited\(3\)/);
    expect(textTimeline(result.stderr)).toMatchObject({ hook: "exited(3)", forwarded: "TERM", child: "exited(0)" });
  });

  it("logs a hook that cannot be run and goes on", async () => {
    const run = start(["--drain", "100ms", "--drain-hook", "/nonexistent/drain-hook", "--", ...SIGNAL_RECORDER]);
    await waitForEvent(run, "ready");
    await signalAt(run, "SIGTERM");
    await waitForEvent(run, "signal", "SIGTERM");
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/drain hook failed: cannot run '\/nonexistent\/drain-hook'/);
  });

  it("kills a hanging hook at --hook-timeout and goes on", async () => {
    // The app takes a while to exit after its signal, so the hook's fate is visible meanwhile.
    const run = start([
      "--drain", "100ms", "--drain-hook", "sleep 1003", "--hook-timeout", "1500ms",
      "--", ...SIGNAL_RECORDER, "--exit-delay", "1500",
    ]);
    await waitForEvent(run, "ready");
    const init = await run.initPid();
    const sentAt = await signalAt(run, "SIGTERM");
    const hook = await waitFor(
      () => childrenOf(init).find((pid) => commandLine(pid) === "sleep 1003") ?? null,
      5_000,
      "the hook to start",
    );
    const received = await waitForEvent(run, "signal", "SIGTERM");
    measured("forwarding with a hanging hook and --hook-timeout 1500ms", received.at! - sentAt);
    expect(received.at! - sentAt).toBeGreaterThanOrEqual(1_500);
    expect(received.at! - sentAt).toBeLessThan(2_500);
    expect(isAlive(hook)).toBe(false);
    expect(run.process.exitCode).toBeNull();

    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/drain hook failed; going on result=timeout/);
    expect(textTimeline(result.stderr).hook).toBe("timeout");
  });
});

function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return null;
  }
}

describe("HTTP hooks", () => {
  it("POSTs to the URL and forwards after the answer", async () => {
    const hook = await hookServer(200, 800);
    const run = start(["--drain", "200ms", "--drain-hook", hook.url, "--", ...SIGNAL_RECORDER]);
    await waitForEvent(run, "ready");
    const sentAt = await signalAt(run, "SIGTERM");
    const received = await waitForEvent(run, "signal", "SIGTERM");
    expect(hook.calls).toHaveLength(1);
    expect(hook.calls[0]).toMatchObject({ method: "POST", url: "/drain" });
    measured("HTTP hook called after SIGTERM", hook.calls[0]!.at - sentAt);
    expect(hook.calls[0]!.at - sentAt).toBeLessThan(1_000);
    expect(hook.calls[0]!.answeredAt).toBeLessThanOrEqual(received.at!);

    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(textTimeline(result.stderr)).toMatchObject({ hook: "http(200)", forwarded: "TERM" });
  });

  it("logs an error status and goes on", async () => {
    const hook = await hookServer(500, 0);
    const run = start(["--drain", "100ms", "--drain-hook", hook.url, "--", ...SIGNAL_RECORDER]);
    await waitForEvent(run, "ready");
    await signalAt(run, "SIGTERM");
    await waitForEvent(run, "signal", "SIGTERM");
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(hook.calls.map((c) => c.method)).toEqual(["POST"]);
    expect(result.stderr).toMatch(/drain hook failed; going on result=http\(500\)/);
  });

  it("aborts a request that hangs at --hook-timeout and goes on", async () => {
    const hook = await hookServer(200, 60_000);
    const run = start([
      "--drain", "100ms", "--drain-hook", hook.url, "--hook-timeout", "700ms", "--", ...SIGNAL_RECORDER,
    ]);
    await waitForEvent(run, "ready");
    const sentAt = await signalAt(run, "SIGTERM");
    const received = await waitForEvent(run, "signal", "SIGTERM");
    expect(received.at! - sentAt).toBeGreaterThanOrEqual(700);
    expect(received.at! - sentAt).toBeLessThan(2_000);
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(textTimeline(result.stderr).hook).toBe("timeout");
  });
});
