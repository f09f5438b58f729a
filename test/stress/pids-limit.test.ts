// An app that uses up its container's process limit (the pids cgroup) must not take PID 1 down.
// The runtime starts threads on demand and fails when the kernel refuses one: its garbage
// collector's helpers (drainit starts itself with settings that need none: runtime-settings.ts)
// and the thread that runs every fetch (drainit starts it before the app: drain/http-client.ts).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { DRAINIT, childrenOf, freePort, sleep, waitFor } from "../e2e/harness.ts";

const FORK_TO_LIMIT = join(dirname(fileURLToPath(import.meta.url)), "programs", "fork-to-limit.py");

/** A fresh pids cgroup (v1 controller, or v2 with pids enabled at the root). */
function makePidsCgroup(max: number): string {
  const roots = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"];
  const root = roots.find(
    (dir) =>
      existsSync(join(dir, "cgroup.procs")) &&
      (existsSync(join(dir, "pids.max")) ||
        dir.endsWith("/pids") ||
        readFileSync(join(dir, "cgroup.subtree_control"), "utf8").includes("pids")),
  );
  if (!root) throw new Error("this machine has no pids cgroup controller to limit processes with");
  const dir = join(root, `drainit-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pids.max"), String(max));
  return dir;
}

let cgroup: string | null = null;
afterEach(async () => {
  if (!cgroup) return;
  const dir = cgroup;
  cgroup = null;
  await waitFor(() => (readFileSync(join(dir, "cgroup.procs"), "utf8").trim() === "" ? true : null), 10_000, "the cgroup to empty");
  rmdirSync(dir);
});

/** The runtime's idle helper threads exit after about ten seconds: this is past that. */
const IDLE_MS = 12_000;
const FLOOD_MS = 2_000;

/**
 * As many SIGWINCH as can be sent in `ms` (the child ignores them): load after a quiet spell.
 * Stops early if drainit is gone (the test then fails on its exit status).
 */
async function flood(pid: number, ms: number): Promise<number> {
  let sent = 0;
  try {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      for (let i = 0; i < 2_000; i++) process.kill(pid, "SIGWINCH");
      sent += 2_000;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
  return sent;
}

const threadsOf = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return NaN;
  }
};

interface Threads {
  idle: number;
  afterFlood: number;
}

/**
 * drainit as PID 1 in a cgroup of 40 processes, its child forking until refused; once the limit
 * is reached, idle past the runtime's helper-thread timeout, a SIGWINCH flood, then SIGTERM.
 * Returns the exit code, stderr and drainit's thread counts.
 */
async function terminateUnderPidsLimit(
  drainitArgs: string[],
): Promise<{ code: number | null; stderr: string; threads: Threads }> {
  cgroup = makePidsCgroup(40);
  const script = `echo $$ > ${cgroup}/cgroup.procs && exec unshare --pid --fork --mount-proc ${DRAINIT} ${drainitArgs.join(" ")} -- python3 ${FORK_TO_LIMIT}`;
  const shell = spawn("bash", ["-c", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  shell.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  shell.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => shell.on("close", (code) => resolve(code)));
  try {
    await waitFor(() => (stdout.includes("limit reached") ? true : null), 10_000, "the child to reach the limit");
    const drainit = childrenOf(shell.pid!)[0];
    expect(drainit, stderr).toBeDefined();
    await sleep(IDLE_MS);
    const idle = threadsOf(drainit!);
    await flood(drainit!, FLOOD_MS);
    const afterFlood = threadsOf(drainit!);
    try {
      process.kill(drainit!, "SIGTERM");
    } catch {
      // gone already: the exit status says how
    }
    return { code: await exited, stderr, threads: { idle, afterFlood } };
  } finally {
    for (const pid of childrenOf(shell.pid!)) process.kill(pid, "SIGKILL");
    shell.kill("SIGKILL");
  }
}

describe("a pids limit reached by the app", () => {
  it("leaves drainit running after an idle spell and a signal flood: it still forwards TERM and exits with the child's code", async () => {
    const { code, stderr, threads } = await terminateUnderPidsLimit([]);
    expect(code, stderr).toBe(5);
    expect(stderr).not.toMatch(/panic|crashed/);
    // The main thread alone, and the flood needed no thread that the idle spell had let go.
    expect(threads.idle).toBe(1);
    expect(threads.afterFlood).toBe(1);
  }, 45_000);

  it("still lets the HTTP drain hook run during the drain", async () => {
    const posts: string[] = [];
    const server = createServer((request, response) => {
      posts.push(`${request.method} ${request.url}`);
      response.end("drained\n");
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      const { code, stderr } = await terminateUnderPidsLimit(["--drain", "500ms", "--drain-hook", `http://127.0.0.1:${port}/drain`]);
      expect(code, stderr).toBe(5);
      expect(posts).toEqual(["POST /drain"]);
      expect(stderr).toMatch(/drain hook done result=http\(200\)/);
    } finally {
      server.close();
    }
  }, 45_000);
});
