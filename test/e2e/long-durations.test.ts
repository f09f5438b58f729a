// Durations past the runtime's 32-bit timer limit (2^31 ms, about 24.8 days), as PID 1 with real
// time: each is honoured as a long wait (not cut to 1 ms), and no runtime warning reaches stderr.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPERS, sleep, trackedRuns } from "./harness.ts";

const start = trackedRuns();
const RECORDER = join(HELPERS, "record-signals.sh");

function recordFile(): string {
  return join(mkdtempSync(join(tmpdir(), "drainit-long-")), "signals");
}

const recorded = (file: string) => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
};

describe("durations past 2^31 ms", () => {
  it("--grace 30d: the app that takes its time after TERM is not killed, and its exit code comes back", async () => {
    // On TERM the app needs a second and a half to finish, then exits 7.
    const app = `trap 'sleep 1.5; exit 7' TERM; echo ready; while :; do sleep 0.1; done`;
    const run = start(["--grace", "30d", "--", "bash", "-c", app]);
    await run.waitForOutput(/ready/);
    await run.signal("SIGTERM");
    const { code, stderr } = await run.finished;
    expect(code, stderr).toBe(7);
    expect(stderr).not.toMatch(/SIGKILL/);
    expect(stderr).not.toMatch(/Warning|trace-warnings/);
  });

  it("--drain 25d really drains: nothing is forwarded until a second TERM skips the rest", async () => {
    const file = recordFile();
    const run = start(["--drain", "25d", "--", "bash", RECORDER, file, "3"]);
    await run.waitForOutput(/ready/);
    await run.signal("SIGTERM");
    await run.waitForOutput(/draining/, "stderr");
    await sleep(1_000);
    expect(recorded(file)).toEqual([]);
    await run.signal("SIGTERM");
    const { code, stderr } = await run.finished;
    expect(code, stderr).toBe(3);
    expect(recorded(file)).toEqual(["TERM"]);
    expect(stderr).toMatch(/second TERM: skipping the rest of the drain/);
    expect(stderr).not.toMatch(/Warning|trace-warnings/);
  });

  it("--hook-timeout 30d lets the hook run to its end", async () => {
    const file = recordFile();
    const hook = `sleep 1; echo hook-finished >> ${file}.hook`;
    const run = start(["--hook-timeout", "30d", "--drain-hook", `sh -c '${hook}'`, "--", "bash", RECORDER, file, "0"]);
    await run.waitForOutput(/ready/);
    await run.signal("SIGTERM");
    const { code, stderr } = await run.finished;
    expect(code, stderr).toBe(0);
    expect(recorded(`${file}.hook`)).toEqual(["hook-finished"]);
    expect(stderr).toMatch(/drain hook done result=exited\(0\)/);
    expect(stderr).not.toMatch(/timeout|Warning|trace-warnings/);
  });

  it("--sleep 30d sleeps, silently", async () => {
    const run = start(["--sleep", "30d"]);
    await sleep(1_000);
    expect(run.process.exitCode).toBeNull();
    await run.signal("SIGTERM");
    const { code, stderr } = await run.finished;
    expect(code).toBe(128 + 15);
    expect(stderr).toBe("");
  });
});
