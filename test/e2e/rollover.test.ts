// The regression guard for the whole point of drainit: a reduced rolling update behind a
// proxy that removes the old endpoint only after a lag. The naive app alone must lose
// requests (otherwise the setup proves nothing); under `drainit --drain` none may be lost.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DRAINIT, ROOT } from "./harness.ts";

interface DemoResult {
  lagMs: number;
  drainMs: number;
  results: {
    init: string;
    summary: { requests: number; failed: number; byKind: Record<string, number>; sigkills: number };
    timeline: string | null;
  }[];
}

const RATE = 200;
const ROLLOVERS = 2;
const LAG_SECONDS = 1;

function runDemo(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "bench", "rollover", "demo.mjs"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // SIGTERM lets the demo clean up its instances by pid before it exits.
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("rolling update behind a lagging proxy", () => {
  it("loses requests with the app alone and none under drainit --drain", { timeout: 90_000 }, async () => {
    expect(existsSync(DRAINIT)).toBe(true);
    const run = await runDemo(
      ["--json", "--rate", String(RATE), "--rollovers", String(ROLLOVERS), "--lag", String(LAG_SECONDS)],
      80_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout.trim().split("\n").pop()!) as DemoResult;
    expect(outcome.drainMs).toBe(2000);
    const [alone, drained] = outcome.results;

    // Load ran for 0.5 s + 2 rollovers × 3 s at 200 requests/s in both runs.
    const expectedRequests = RATE * (0.5 + ROLLOVERS * 3);
    for (const { summary } of [alone!, drained!]) {
      expect(summary.requests).toBe(expectedRequests);
      expect(summary.sigkills).toBe(0);
    }

    // Half the new connections go to the old instance for about a second per rollover
    // (~100 each); demand a clear fraction of that so a slow machine cannot flake it.
    expect(alone!.init).toBe("app");
    expect(alone!.summary.failed, run.stderr).toBeGreaterThan(20);

    expect(drained!.init).toBe("drainit-drain");
    expect(drained!.summary.failed, JSON.stringify(drained!.summary.byKind)).toBe(0);
    // drainit held the stop signal back for the drain, then the app stopped by itself.
    const forwardedMs = Number(/forwarded_ms=(\d+)/.exec(drained!.timeline ?? "")?.[1]);
    expect(forwardedMs).toBeGreaterThanOrEqual(2000);
    expect(drained!.timeline).toMatch(/child=exited\(0\)/);
  });
});
