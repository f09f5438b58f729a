// Descriptors handed down to drainit reach the child at the same numbers, open as they were
// (socket activation, pipes of a supervisor, --preserve-fds), as with dumb-init and tini;
// drainit's own never do, and hooks get 0-2 only. As PID 1 and not.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NODE } from "./drain-support.ts";
import { DRAINIT, freePort, trackedRuns, waitFor } from "./harness.ts";

const start = trackedRuns();
const PATH = process.env.PATH ?? "/usr/bin:/bin";

/** `ls -l /proc/self/fd` output as number → target, without ls's own directory descriptor. */
function descriptors(lsOutput: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const match of lsOutput.matchAll(/ (\d+) -> (.*)$/gm)) {
    if (/^\/proc\/\d+\/fd$/.test(match[2]!)) continue;
    found.set(Number(match[1]), match[2]!);
  }
  return found;
}

const numbers = (found: Map<number, string>) => [...found.keys()].sort((a, b) => a - b);

/**
 * Shell text that closes every descriptor above 2: what the test runner itself may have
 * inherited and left open, so that each test hands drainit exactly what it means to.
 */
const CLOSE_STRAYS = `for path in /proc/$$/fd/*; do fd=\${path##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; `;

/** Runs a bash script (strays closed first) to its end. */
function runScript(script: string) {
  return spawnSync("bash", ["-c", CLOSE_STRAYS + script], { encoding: "utf8", env: { PATH }, timeout: 20_000 });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "drainit-fds-"));
}

for (const pid1 of [true, false]) {
  const as = pid1 ? "as PID 1" : "not as PID 1";
  const launch = pid1 ? `unshare --pid --fork --mount-proc ${DRAINIT}` : DRAINIT;

  describe(`inherited descriptors, ${as}`, () => {
    it("with none handed down, the child gets none beyond 0-2 (nothing of drainit's or the runtime's)", async () => {
      const result = runScript(`exec ${launch} -- ls -l /proc/self/fd`);
      expect(result.status, result.stderr).toBe(0);
      expect(numbers(descriptors(result.stdout))).toEqual([0, 1, 2]);
    });

    it("hands on 3, 4, 5, 9 and 251 at the same numbers, to the same files", () => {
      const dir = tempDir();
      writeFileSync(join(dir, "high"), "251\n");
      const script =
        `exec 3<${dir}/high 4>${dir}/a 5>${dir}/b 9</etc/hostname 251<${dir}/high; ` +
        `exec ${launch} -- ls -l /proc/self/fd`;
      const result = runScript(script);
      expect(result.status, result.stderr).toBe(0);
      const found = descriptors(result.stdout);
      expect(numbers(found)).toEqual([0, 1, 2, 3, 4, 5, 9, 251]);
      expect(found.get(3)).toBe(`${dir}/high`);
      expect(found.get(4)).toBe(`${dir}/a`);
      expect(found.get(5)).toBe(`${dir}/b`);
      expect(found.get(9)).toBe("/etc/hostname");
      expect(found.get(251)).toBe(`${dir}/high`);
    });

    it("hands on a descriptor open as it was: the child writes on at the file's offset", () => {
      const dir = tempDir();
      const script =
        `exec 7>${dir}/log; echo first >&7; ` +
        `exec ${launch} -- sh -c 'echo second >&7'`;
      const result = runScript(script);
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(join(dir, "log"), "utf8")).toBe("first\nsecond\n");
    });

    it("hands on a listening socket that the child accepts connections on", async () => {
      const server: Server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as { port: number };
      const socketFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      const app = `require("net").createServer((s) => s.end("answer from fd 4\\n")).listen({ fd: 4 }, () => console.log("accepting"))`;
      const argv = ["--", NODE, "-e", app];
      const [command, args] = pid1 ? ["unshare", ["--pid", "--fork", "--mount-proc", DRAINIT, ...argv]] : [DRAINIT, argv];
      const child = spawn(command, args, { env: { PATH }, stdio: ["ignore", "pipe", "pipe", "ignore", socketFd] });
      // From now on only the child has the socket.
      server.close();
      let stdout = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      try {
        await waitFor(() => (stdout.includes("accepting") ? true : null), 10_000, "the child to accept");
        const answer = await new Promise<string>((resolve, reject) => {
          let text = "";
          const socket = connect(port, "127.0.0.1");
          socket.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
          socket.on("end", () => resolve(text)).on("error", reject);
        });
        expect(answer).toBe("answer from fd 4\n");
      } finally {
        // TERM for drainit, which passes it on: the app ends, then drainit.
        const closed = new Promise((resolve) => child.on("close", resolve));
        const initPid = pid1 ? childOfUnshare(child.pid!) : child.pid!;
        if (initPid) process.kill(initPid, "SIGTERM");
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        child.kill("SIGKILL");
      }
    });

    it("gives a hook 0-2 only, while the child has what was handed down", async () => {
      const dir = tempDir();
      const hookOut = join(dir, "hook-fds");
      const hook = `sh -c 'ls -l /proc/self/fd > ${hookOut}'`;
      const childOut = join(dir, "child-fds");
      // The trap comes first: the list on disk is the test's sign that the app is ready for TERM.
      const app = `trap 'exit 0' TERM; ls -l /proc/self/fd > ${childOut}; while :; do sleep 0.1; done`;
      const script = `exec 4>${dir}/a 9</etc/hostname; exec ${launch} --drain-hook "${hook}" -- bash -c "${app}"`;
      const run = start(["-c", CLOSE_STRAYS + script], { binary: "bash", notPid1: true });
      const listed = () => {
        try {
          return readFileSync(childOut, "utf8").includes("hostname") ? true : null;
        } catch {
          return null;
        }
      };
      await waitFor(listed, 10_000, "the child's list of descriptors");
      const initPid = pid1 ? await waitFor(() => childOfUnshare(run.process.pid!), 5_000, "drainit") : run.process.pid!;
      process.kill(initPid, "SIGTERM");
      const { code, stderr } = await run.finished;
      expect(code, stderr).toBe(0);
      expect(numbers(descriptors(readFileSync(childOut, "utf8")))).toEqual([0, 1, 2, 4, 9]);
      expect(numbers(descriptors(readFileSync(hookOut, "utf8")))).toEqual([0, 1, 2]);
    });

    it("does not hand on its health endpoint's socket", async () => {
      const port = await freePort();
      const result = runScript(`exec ${launch} --health 127.0.0.1:${port} -- sh -c 'sleep 0.3; ls -l /proc/self/fd'`);
      expect(result.status, result.stderr).toBe(0);
      // (0-2 are the test runner's socket pairs: only what lies beyond them is drainit's doing.)
      expect(numbers(descriptors(result.stdout))).toEqual([0, 1, 2]);
    });
  });
}

/** drainit under `bash -c 'exec unshare …'`: unshare's child. */
function childOfUnshare(unsharePid: number): number | null {
  try {
    const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8").trim();
    return children ? Number(children.split(" ")[0]) : null;
  } catch {
    return null;
  }
}
