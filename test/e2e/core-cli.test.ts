// The command line as PID 1: bad input stops everything before it starts, the dumb-init and tini
// personalities, help and version, JSON log lines.
import { existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DRAINIT } from "./harness.ts";
import { MAKE_ORPHANS, finish, start, stderrLines, tempDir, usr1InFamily } from "./core-support.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";

/** A link to dist/drainit under another tool's name, in a temporary directory. */
function linkNamed(name: string): string {
  const link = join(tempDir(), name);
  symlinkSync(DRAINIT, link);
  return link;
}

describe("bad input", () => {
  it.each([
    ["an unknown flag", ["--no-such-flag"], {}],
    ["an unknown short flag", ["-Z"], {}],
    ["a bad duration", ["--drain", "5x"], {}],
    ["a bad grace duration", ["--grace", "soon"], {}],
    ["a bad duration in the environment", [], { DRAINIT_DRAIN: "forever" }],
    ["an unknown signal name in --rewrite", ["-r", "FOO:TERM"], {}],
    ["a --rewrite without TO", ["-r", "USR1"], {}],
    ["a signal number out of range", ["-r", "99:TERM"], {}],
    ["an unknown --pdeathsig", ["--pdeathsig", "NOPE"], {}],
    ["an unknown --stop-signal", ["--stop-signal", "SIGFOO"], {}],
    ["an exit code out of range", ["-e", "300"], {}],
    ["an unknown log format", ["--log-format", "xml"], {}],
  ])("%s: exit 2, one line on stderr, nothing started", async (_, flags, env) => {
    const marker = join(tempDir(), "started");
    const result = await finish([...flags, "touch", marker], { env: { PATH, ...env } });
    expect(result.code).toBe(2);
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^drainit: \S/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
    expect(existsSync(marker)).toBe(false);
  });

  it.each([[["--drain"]], [["-c", "-v"]]])("%j (a value or the command missing): exit 2, one line", async (args) => {
    const result = await finish(args);
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^drainit: \S/);
  });

  it("prints the usage on stderr and exits 2 when given no arguments", async () => {
    const result = await finish([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Usage: drainit \[options\] \[--\] <command> \[args\.\.\.\]/);
  });

  it.each([["-V"], ["--version"]])("prints the version with %s and exits 0", async (flag) => {
    const result = await finish([flag]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^drainit \d+\.\d+\.\d+\b.*\n$/);
    expect(result.stderr).toBe("");
  });

  it.each([["-h"], ["--help"]])("prints the help with %s and exits 0", async (flag) => {
    const result = await finish([flag]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: drainit/);
    expect(result.stdout).toContain("--single-child");
    expect(result.stdout).toContain("--rewrite");
    expect(result.stderr).toBe("");
  });
});

describe("compatibility names", () => {
  it.each([
    ["drainit", [], {}, true],
    ["drainit", ["-c"], {}, false],
    ["tini", [], {}, false],
    ["tini", ["-g"], {}, true],
    ["tini", [], { TINI_KILL_PROCESS_GROUP: "1" }, true],
    ["dumb-init", [], {}, true],
    ["dumb-init", [], { DUMB_INIT_SETSID: "0" }, false],
    ["dumb-init", ["-c"], {}, false],
  ])("as %s %j with %j: group-wide signals %s", { timeout: 45_000 }, async (name, flags, env, groupWide) => {
    const binary = name === "drainit" ? DRAINIT : linkNamed(name);
    const { child, grandchild } = await usr1InFamily(flags, { binary, env: { PATH, ...env } });
    expect(child).toEqual(["USR1"]);
    expect(grandchild).toEqual(groupWide ? ["USR1"] : []);
  });
});

describe("--log-format json", () => {
  it("writes every stderr line as a JSON object", async () => {
    const run = start(["--log-format", "json", "-v", "-v", "-w", "sh", MAKE_ORPHANS, "3"]);
    await run.waitForOutput(/orphans made/);
    await run.waitForOutput(/(reaped zombie[\s\S]*){3}/, "stderr");
    await run.signal("SIGTERM");
    const { code, stderr } = await run.finished;
    expect(code).toBe(143);
    const lines = stderrLines(stderr);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      expect(record).toBeTypeOf("object");
      expect(record.level).toBeTypeOf("string");
      expect(record.msg).toBeTypeOf("string");
    }
    const messages = records.map((record) => record.msg);
    expect(messages.filter((msg) => msg === "reaped zombie")).toHaveLength(3);
    expect(messages).toContain("timeline");
  });

  it("writes the cannot-run error as JSON when DRAINIT_LOG_FORMAT=json", async () => {
    const result = await finish(["no-such-command-anywhere"], { env: { PATH, DRAINIT_LOG_FORMAT: "json" } });
    expect(result.code).toBe(127);
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "error",
      msg: "cannot run 'no-such-command-anywhere': No such file or directory",
    });
  });
});
