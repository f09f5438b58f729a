// An out-of-memory kill under a real memory limit: the test makes a memory cgroup with a small
// limit, starts drainit (as PID 1) inside it, the app allocates past the limit, the kernel's OOM
// killer ends it, and drainit's log says so.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findMemoryCgroup, type MemoryCgroup } from "../../src/sys/cgroup.ts";
import { DRAINIT, runToExit, sleep } from "./harness.ts";
import { textTimeline } from "./drain-support.ts";

const LIMIT_BYTES = 128 * 1024 * 1024;
/** Allocates (and touches) 8 MiB at a time until the kernel stops it. */
const GREEDY_APP = [
  "python3",
  "-c",
  "import time\nchunks = []\nwhile True:\n    chunks.append(bytearray(b'x' * (8 << 20)))\n    time.sleep(0.005)\n",
];

/** A new memory cgroup below the test's own, limited to LIMIT_BYTES. */
function makeLimitedCgroup(): { dir: string; version: MemoryCgroup["version"] } {
  const own = findMemoryCgroup(readFileSync("/proc/self/cgroup", "utf8"), readFileSync("/proc/self/mountinfo", "utf8"));
  if (!own) throw new Error("no memory cgroup found for the test process (is a cgroup hierarchy mounted?)");
  const dir = join(own.dir, `drainit-oom-${process.pid}-${Date.now()}`);
  mkdirSync(dir);
  if (own.version === 1) {
    writeFileSync(join(dir, "memory.limit_in_bytes"), String(LIMIT_BYTES));
  } else {
    // cgroup v2: the memory controller must be on for the new group (the parent's subtree_control).
    if (!readFileSync(join(dir, "cgroup.controllers"), "utf8").split(/\s+/).includes("memory")) {
      writeFileSync(join(own.dir, "cgroup.subtree_control"), "+memory");
    }
    writeFileSync(join(dir, "memory.max"), String(LIMIT_BYTES));
    writeFileSync(join(dir, "memory.swap.max"), "0");
  }
  return { dir, version: own.version };
}

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) {
    // Empty once every process in it is reaped; give the kernel a moment.
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        await sleep(100);
      }
    }
  }
});

/** drainit as PID 1 of a new PID namespace, inside `cgroupDir` from its first instruction. */
function runInCgroup(cgroupDir: string, args: string[]) {
  const quoted = [DRAINIT, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(" ");
  return runToExit(
    ["-c", `echo $$ > '${cgroupDir}/cgroup.procs' && exec unshare --pid --fork --mount-proc ${quoted}`],
    { notPid1: true, binary: "/bin/sh" },
    60_000,
  );
}

describe("an out-of-memory kill", () => {
  it("is named in one line with the limit, and as killed(KILL,oom) in the timeline", async () => {
    const cgroup = makeLimitedCgroup();
    made.push(cgroup.dir);
    const limitFile = cgroup.version === 1 ? "memory.limit_in_bytes" : "memory.max";

    const result = await runInCgroup(cgroup.dir, ["--", ...GREEDY_APP]);
    expect(result.code).toBe(137);
    const lines = result.stderr.trim().split("\n");
    expect(lines.filter((line) => line.includes("out-of-memory"))).toEqual([
      `drainit: child killed by the out-of-memory killer (${limitFile} 128 MiB)`,
    ]);
    expect(textTimeline(result.stderr)).toMatchObject({ stop: "none", child: "killed(KILL,oom)", exit_code: "137" });
  });

  it("is in the JSON log too", async () => {
    const cgroup = makeLimitedCgroup();
    made.push(cgroup.dir);
    const result = await runInCgroup(cgroup.dir, ["--log-format", "json", "--", ...GREEDY_APP]);
    expect(result.code).toBe(137);
    const records = result.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.find((r) => String(r.msg).startsWith("child killed by the out-of-memory killer"))).toMatchObject({
      level: "warn",
    });
    expect(records.find((r) => r.msg === "timeline")).toMatchObject({ child: "killed(KILL,oom)", exit_code: 137 });
  });

  it("is not claimed for a SIGKILL sent by someone else", async () => {
    const cgroup = makeLimitedCgroup();
    made.push(cgroup.dir);
    const result = await runInCgroup(cgroup.dir, ["--", "sh", "-c", "kill -KILL $$"]);
    expect(result.code).toBe(137);
    expect(result.stderr).not.toContain("out-of-memory");
  });
});
