// What tells the load balancer to go away: the --health endpoint and the --drain-file,
// drainit as PID 1 with real time.
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, runToExit, trackedRuns, waitFor } from "./harness.ts";
import {
  HTTP_APP,
  SIGNAL_RECORDER,
  appEvents,
  measured,
  signalAt,
  statusOf,
  waitForEvent,
} from "./drain-support.ts";

const start = trackedRuns();

/** Asks `url` back to back until it answers `status`; returns when it first did. */
async function firstAnswer(url: string, status: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await statusOf(url, 1_000)) === status) return Date.now();
  }
  throw new Error(`${url} never answered ${status}`);
}

async function healthAnswers(url: string, status: number): Promise<void> {
  expect(await statusOf(url)).toBe(status);
}

describe("--health", () => {
  it("flips /healthz and /readyz to 503 at SIGTERM while the app still answers 200", async () => {
    const port = await freePort();
    const run = start(["--health", `127.0.0.1:${port}`, "--drain", "3s", "--", ...HTTP_APP]);
    const app = `http://127.0.0.1:${(await waitForEvent(run, "listening")).port}/`;
    const healthz = `http://127.0.0.1:${port}/healthz`;
    const readyz = `http://127.0.0.1:${port}/readyz`;
    await healthAnswers(healthz, 200);
    await healthAnswers(readyz, 200);
    expect(await statusOf(`http://127.0.0.1:${port}/other`)).toBe(404);

    const flipped = firstAnswer(healthz, 503);
    const sentAt = await signalAt(run, "SIGTERM");
    const flippedAt = await flipped;
    measured("/healthz answering 503 after SIGTERM", flippedAt - sentAt);
    expect(flippedAt - sentAt).toBeLessThan(1_000);
    await healthAnswers(readyz, 503);
    // The app itself is still serving: the drain has not forwarded anything yet.
    expect(await statusOf(app)).toBe(200);
    expect(appEvents(run).some((e) => e.event === "signal")).toBe(false);

    await signalAt(run, "SIGTERM"); // no need to sit out the rest of the drain
    expect((await run.finished).code).toBe(0);
  });

  it("mirrors the app's health URL with --health-upstream while running, 503 once draining", async () => {
    const port = await freePort();
    const appPort = await freePort();
    const run = start([
      "--health", `127.0.0.1:${port}`, "--health-upstream", `http://127.0.0.1:${appPort}/health`, "--drain", "3s",
      "--", ...HTTP_APP, "--port", String(appPort),
    ]);
    await waitForEvent(run, "listening");
    const healthz = `http://127.0.0.1:${port}/healthz`;
    const setAppHealth = (status: number) =>
      fetch(`http://127.0.0.1:${appPort}/health?status=${status}`, { method: "POST" }).then((r) => r.arrayBuffer());

    await healthAnswers(healthz, 200);
    await setAppHealth(418);
    await healthAnswers(healthz, 418);
    await setAppHealth(200);
    await healthAnswers(healthz, 200);

    await signalAt(run, "SIGTERM");
    await firstAnswer(healthz, 503);
    // Draining wins over a healthy app.
    expect(await statusOf(`http://127.0.0.1:${appPort}/health`)).toBe(200);
    await signalAt(run, "SIGTERM");
    expect((await run.finished).code).toBe(0);
  });

  it("exits 2 with one line, child not started, when the address is taken", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    const dir = mkdtempSync(join(tmpdir(), "drainit-e2e-"));
    try {
      const result = await runToExit(["--health", `127.0.0.1:${port}`, "--", "sh", "-c", "touch started"], {
        cwd: dir,
      });
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^drainit: --health: cannot listen on 127\\.0\\.0\\.1:${port}`));
      expect(existsSync(join(dir, "started"))).toBe(false);
    } finally {
      taken.close();
    }
  });
});

describe("--drain-file", () => {
  it("appears at the stop signal, parent directories and all, and is removed at exit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "drainit-e2e-"));
    const file = join(dir, "run", "drainit", "draining");
    const run = start(["--drain-file", file, "--drain", "1s", "--", ...SIGNAL_RECORDER]);
    await waitForEvent(run, "ready");
    expect(existsSync(join(dir, "run"))).toBe(false);

    const sentAt = await signalAt(run, "SIGTERM");
    await waitFor(() => (existsSync(file) ? true : null), 5_000, "the drain file");
    measured("drain file present after SIGTERM", Date.now() - sentAt);
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    // It is there while the app still serves, before the stop signal reaches it.
    expect(appEvents(run).some((e) => e.event === "signal")).toBe(false);

    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });
});
