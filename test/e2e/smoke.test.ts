import { describe, expect, it } from "vitest";
import { runInit, runToExit } from "./harness.ts";

describe("drainit as PID 1", () => {
  it("passes the child's exit code on", async () => {
    const result = await runToExit(["sh", "-c", "exit 77"]);
    expect(result.code).toBe(77);
  });

  it("is the child's parent, PID 1", async () => {
    const result = await runToExit(["sh", "-c", 'echo "$PPID"']);
    expect(result.stdout.trim()).toBe("1");
  });

  it("keeps its name after starting itself again with its runtime settings", async () => {
    const result = await runToExit(["sh", "-c", "cat /proc/1/comm; tr '\\0' '\\n' < /proc/1/environ | grep -c -E '^(BUN_JSC_|MIMALLOC_PURGE_DELAY=)'"]);
    expect(result.stdout.split("\n").slice(0, 2)).toEqual(["drainit", "5"]);
  });

  it("gives the child its environment without the settings it added", async () => {
    const result = await runToExit(["sh", "-c", "env | grep -E '^(BUN_JSC_|MIMALLOC_|_DRAINIT_)' || echo none"]);
    expect(result.stdout.trim()).toBe("none");
  });

  it("forwards SIGTERM and exits with the child's trap code", async () => {
    const run = runInit(["sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.05; done"]);
    await run.waitForOutput(/ready/);
    await run.signal("SIGTERM");
    expect((await run.finished).code).toBe(3);
  });
});
