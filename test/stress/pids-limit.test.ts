// An app that uses up its container's process limit (the pids cgroup) must not take PID 1 down.
// The runtime starts garbage-collector helper threads on demand and aborts when it cannot;
// drainit starts itself with the settings that make it need none (src/runtime-settings.ts).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { DRAINIT, childrenOf, sleep, waitFor } from "../e2e/harness.ts";

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

describe("a pids limit reached by the app", () => {
  it("leaves drainit running: it still forwards TERM and exits with the child's code", async () => {
    cgroup = makePidsCgroup(40);
    const script = `echo $$ > ${cgroup}/cgroup.procs && exec unshare --pid --fork --mount-proc ${DRAINIT} -- python3 ${FORK_TO_LIMIT}`;
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
      // The runtime's first garbage collections come within a few seconds of start-up.
      await sleep(3_000);
      const drainit = childrenOf(shell.pid!)[0];
      expect(drainit, stderr).toBeDefined();
      process.kill(drainit!, "SIGTERM");
      expect(await exited, stderr).toBe(5);
      expect(stderr).not.toMatch(/panic|crashed/);
    } finally {
      for (const pid of childrenOf(shell.pid!)) process.kill(pid, "SIGKILL");
      shell.kill("SIGKILL");
    }
  });
});
