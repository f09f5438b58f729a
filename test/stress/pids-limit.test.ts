// An app that uses up its container's process limit (the pids cgroup) must not take PID 1 down.
// The runtime starts threads on demand and fails when the kernel refuses one: its garbage
// collector's helpers (drainit starts itself with settings that need none: runtime-settings.ts)
// and the thread that runs every fetch (drainit starts it before the app: drain/http-client.ts).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
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

/**
 * drainit as PID 1 in a cgroup of 40 processes, its child forking until refused; once the limit
 * is reached and the runtime's first garbage collections are past, SIGTERM. Returns the exit code
 * and stderr.
 */
async function terminateUnderPidsLimit(drainitArgs: string[]): Promise<{ code: number | null; stderr: string }> {
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
    await sleep(3_000);
    const drainit = childrenOf(shell.pid!)[0];
    expect(drainit, stderr).toBeDefined();
    process.kill(drainit!, "SIGTERM");
    return { code: await exited, stderr };
  } finally {
    for (const pid of childrenOf(shell.pid!)) process.kill(pid, "SIGKILL");
    shell.kill("SIGKILL");
  }
}

describe("a pids limit reached by the app", () => {
  it("leaves drainit running: it still forwards TERM and exits with the child's code", async () => {
    const { code, stderr } = await terminateUnderPidsLimit([]);
    expect(code, stderr).toBe(5);
    expect(stderr).not.toMatch(/panic|crashed/);
  });

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
  });
});
