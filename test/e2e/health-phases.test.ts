// Readiness apart from liveness, drainit as PID 1: /readyz goes to 503 at the stop signal, /livez
// stays 200 while the app is alive (draining, then stopping), /healthz keeps its old meaning.
import { describe, expect, it } from "vitest";
import { freePort, trackedRuns } from "./harness.ts";
import { SIGNAL_RECORDER, signalAt, waitForEvent } from "./drain-support.ts";

const start = trackedRuns();

interface Answer {
  status: number;
  body: string;
  type: string | null;
}

async function ask(url: string, accept?: string): Promise<Answer> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000), headers: accept ? { accept } : {} });
    return { status: response.status, body: await response.text(), type: response.headers.get("content-type") };
  } catch {
    return { status: 0, body: "", type: null };
  }
}

/** Asks until the body says `phase`; returns that answer. */
async function untilPhase(url: string, phase: string, timeoutMs = 10_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  let last: Answer = { status: 0, body: "", type: null };
  while (Date.now() < deadline) {
    last = await ask(url);
    if (last.body.startsWith(phase)) return last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${url} never said ${phase} (last: ${JSON.stringify(last)})`);
}

describe("--health: /readyz, /livez, /healthz through the phases", () => {
  it("ready and live while running; not ready but live while draining and stopping", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // The app takes 1.5 s to exit after the stop signal reaches it: drainit is then stopping.
    const run = start(["--health", `127.0.0.1:${port}`, "--drain", "1s", "--", ...SIGNAL_RECORDER, "--exit-delay", "1500"]);
    await waitForEvent(run, "ready");
    await untilPhase(`${base}/livez`, "running");

    expect(await ask(`${base}/readyz`)).toMatchObject({ status: 200, body: "running\n", type: "text/plain" });
    expect(await ask(`${base}/livez`)).toMatchObject({ status: 200, body: "running\n" });
    expect(await ask(`${base}/healthz`)).toMatchObject({ status: 200, body: "running\n" });
    const runningJson = JSON.parse((await ask(`${base}/readyz?verbose`)).body);
    expect(runningJson).toMatchObject({ phase: "running", ready: true, live: true, since_stop_ms: null, plan: { drain_ms: 1_000 } });

    const sentAt = await signalAt(run, "SIGTERM");
    await untilPhase(`${base}/livez`, "draining");
    expect(await ask(`${base}/readyz`)).toMatchObject({ status: 503, body: "draining\n" });
    expect(await ask(`${base}/healthz`)).toMatchObject({ status: 503, body: "draining\n" });
    expect(await ask(`${base}/livez`)).toMatchObject({ status: 200, body: "draining\n" });
    const drainingJson = await ask(`${base}/livez`, "application/json");
    expect(drainingJson.type).toBe("application/json");
    const document = JSON.parse(drainingJson.body);
    expect(document).toMatchObject({ phase: "draining", ready: false, live: true });
    expect(document.since_stop_ms).toBeGreaterThanOrEqual(0);
    expect(document.since_stop_ms).toBeLessThanOrEqual(Date.now() - sentAt + 50);

    // The drain is over: SIGTERM went on to the app, which is still shutting down.
    await waitForEvent(run, "signal", "SIGTERM");
    await untilPhase(`${base}/livez`, "stopping");
    expect(await ask(`${base}/livez`)).toMatchObject({ status: 200, body: "stopping\n" });
    expect(await ask(`${base}/readyz`)).toMatchObject({ status: 503, body: "stopping\n" });

    expect((await run.finished).code).toBe(0);
  });
});
