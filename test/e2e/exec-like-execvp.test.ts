// A file without #! that the kernel refuses (ENOEXEC) runs with /bin/sh, as execvp runs it for
// dumb-init and tini; where there is no /bin/sh, exit 126 with one line that says why.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EMPTY_ROOT } from "./drain-support.ts";
import { DRAINIT, runToExit, trackedRuns } from "./harness.ts";

const start = trackedRuns();
const PATH = process.env.PATH ?? "/usr/bin:/bin";

/** A script without #! in a new directory: prints $0 and its arguments, then exits `code`. */
function scriptWithoutShebang(code: number, body = ""): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "drainit-noshebang-"));
  const path = join(dir, "no-shebang");
  writeFileSync(path, `${body}echo "ran as $0 with $*"\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return { dir, path };
}

for (const pid1 of [true, false]) {
  describe(`a file without #!, ${pid1 ? "as PID 1" : "not as PID 1"}`, () => {
    it("runs with /bin/sh, its arguments after it, and its exit code comes back", async () => {
      const { path } = scriptWithoutShebang(9);
      const { code, stdout, stderr } = await runToExit(["--", path, "a b", "c"], { notPid1: !pid1 });
      expect(stderr).toBe("");
      expect(code).toBe(9);
      expect(stdout).toBe(`ran as ${path} with a b c\n`);
    });

    it("is found along PATH like any program", async () => {
      const { dir } = scriptWithoutShebang(4);
      const { code, stdout } = await runToExit(["--", "no-shebang", "x"], { notPid1: !pid1, env: { PATH: `${dir}:${PATH}` } });
      expect(code).toBe(4);
      expect(stdout).toBe(`ran as ${dir}/no-shebang with x\n`);
    });

    it("runs as a drain hook too", async () => {
      const out = join(mkdtempSync(join(tmpdir(), "drainit-hook-")), "hook-ran");
      const { path } = scriptWithoutShebang(0, `echo hook > ${out}\n`);
      const run = start(["--drain-hook", path, "--", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"], { notPid1: !pid1 });
      await run.waitForOutput(/ready/);
      await run.signal("SIGTERM");
      const { code, stderr } = await run.finished;
      expect(code, stderr).toBe(0);
      expect(readFileSync(out, "utf8")).toBe("hook\n");
      expect(stderr).toMatch(/drain hook done result=exited\(0\)/);
    });
  });
}

describe("a file without #! where there is no /bin/sh", () => {
  it("exits 126 with one line that says why", async () => {
    const root = join(mkdtempSync(join(tmpdir(), "drainit-nosh-")), "root");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "script"), "echo never\n");
    chmodSync(join(root, "script"), 0o755);
    const child = spawn(EMPTY_ROOT, [DRAINIT, root, "--", "/script"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    // The helper lists the root's files first: no shell among them.
    expect(stdout).toContain("./script");
    expect(stdout).not.toMatch(/\/sh$/m);
    expect(code, stderr).toBe(126);
    expect(stderr).toBe("drainit: cannot run '/script': Exec format error (not a program, and there is no /bin/sh to run it as a script)\n");
  });
});

