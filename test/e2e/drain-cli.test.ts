// The drain options' edges, end to end: --sleep (also in a root that holds nothing but
// drainit and its libraries) and the one-line errors for bad drain input.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DRAINIT, runToExit } from "./harness.ts";
import { EMPTY_ROOT, measured } from "./drain-support.ts";

async function timed<T>(action: () => Promise<T>): Promise<[T, number]> {
  const startedAt = Date.now();
  const value = await action();
  return [value, Date.now() - startedAt];
}

describe("--sleep", () => {
  it("sleeps and exits 0", async () => {
    const [result, took] = await timed(() => runToExit(["--sleep", "1"]));
    measured("drainit --sleep 1 as PID 1", took);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThan(5_000);
  });

  it("leaves 'drainit sleep …' to the sleep program", async () => {
    const [result, took] = await timed(() => runToExit(["sleep", "0.2"]));
    expect(result.code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(200);
    // Only /bin/sleep answers a bad interval with exit 1; drainit's own --sleep would exit 2.
    const bad = await runToExit(["sleep", "soon"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^sleep: /m);
    const own = await runToExit(["--sleep", "soon"]);
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(/^drainit: --sleep: 'soon' is not a duration/);
  });

  it("works in an empty root: no sleep binary, no shell, only drainit and its libraries", async () => {
    const root = join(mkdtempSync(join(tmpdir(), "drainit-root-")), "root");
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(EMPTY_ROOT, [DRAINIT, root, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });

    const [result, took] = await timed(() => run(["--sleep", "0.2"]));
    measured("drainit --sleep 0.2 in an empty root, root set-up included", took);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(200);
    const files = result.stdout.trim().split("\n");
    expect(files).toContain("./drainit");
    expect(files.every((f) => f === "./drainit" || /\/(ld-linux[^/]*|lib[^/]*\.so[.\d]*)$/.test(f))).toBe(true);

    // Proof that the root is as empty as claimed: there is no sleep to run.
    const missing = await run(["sleep", "0.2"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cannot run 'sleep'/);
  });
});

describe("bad drain input: one line, exit 2, nothing started", () => {
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ["a negative drain", ["--drain", "-5s"], {}, /--drain: '-5s' is not a duration/],
    ["a negative drain, with =", ["--drain=-1"], {}, /--drain: '-1' is not a duration/],
    ["a garbage duration", ["--grace", "soonish"], {}, /--grace: 'soonish' is not a duration/],
    ["a garbage hook timeout", ["--hook-timeout", "1.5.3s"], {}, /--hook-timeout: '1\.5\.3s' is not a duration/],
    ["a negative budget from the environment", [], { DRAINIT_BUDGET: "-30s" }, /DRAINIT_BUDGET: '-30s' is not a duration/],
    ["a hook URL that does not parse", ["--drain-hook", "http://"], {}, /--drain-hook: 'http:\/\/' is not a URL/],
    ["a hook URL with a bad port", ["--drain-hook", "http://127.0.0.1:99999/drain"], {}, /--drain-hook: .* is not a URL/],
    ["a hook URL that is not http", ["--drain-hook", "ftp://example.com/drain"], {}, /not an http\(s\) URL/],
    ["--health-upstream without --health", ["--health-upstream", "http://127.0.0.1:1/health"], {}, /--health-upstream needs --health/],
    ["a bad health address", ["--health", "localhost"], {}, /--health: 'localhost' is not ADDR:PORT/],
    ["--grace while --rewrite drops the stop signal", ["--grace", "5s", "--rewrite", "TERM:0"], {}, /--grace needs the stop signal forwarded, but --rewrite drops TERM/],
    ["--grace while --rewrite drops INT as the stop signal", ["--stop-signal", "INT", "--rewrite", "INT:0", "--grace", "1s"], {}, /drops INT/],
    ["a bad stop signal", ["--stop-signal", "TERMINATE"], {}, /TERMINATE/],
  ];

  it.each(cases)("%s", async (_name, args, env, message) => {
    const dir = mkdtempSync(join(tmpdir(), "drainit-e2e-"));
    const result = await runToExit([...args, "--", "sh", "-c", "touch started"], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
    });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^drainit: /);
    expect(lines[0]).toMatch(message);
    expect(existsSync(join(dir, "started"))).toBe(false);
  });
});
