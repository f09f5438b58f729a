// The runtime drainit is built on reads its own environment variables and needs /proc; signals can
// come before drainit's code runs. What each of these does to drainit, as PID 1.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { textTimeline } from "../e2e/drain-support.ts";
import { DRAINIT, HELPERS, childrenOf, freePort, runInit, runToExit, type Finished } from "../e2e/harness.ts";
import { FULL, figure, sized } from "./stress-support.ts";

const scratch = mkdtempSync(join(tmpdir(), "drainit-runtime-env-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const PRELOAD_MARK = join(scratch, "preload-ran");
const PRELOAD = join(scratch, "preload.js");
writeFileSync(PRELOAD, `require("node:fs").writeFileSync(${JSON.stringify(PRELOAD_MARK)}, "ran");\n`);

/** A child that shows what it received and exits 5. */
const REPORTING_CHILD = ["sh", "-c", 'echo "child ran: BUN_OPTIONS=[$BUN_OPTIONS] BUN_BE_BUN=[$BUN_BE_BUN]"; exit 5'];

function expectChildRan(result: Finished, env: Record<string, string>): void {
  expect(result.code, result.stderr).toBe(5);
  expect(result.stdout).toBe(
    `child ran: BUN_OPTIONS=[${env.BUN_OPTIONS ?? ""}] BUN_BE_BUN=[${env.BUN_BE_BUN ?? ""}]\n`,
  );
  expect(result.stderr).toBe("");
  expect(existsSync(PRELOAD_MARK)).toBe(false);
}

describe("runtime environment variables", () => {
  const bunOptions = [
    `--preload ${PRELOAD}`,
    `-r ${PRELOAD}`,
    "--version",
    "--help",
    "--revision",
    "--cwd /drainit-no-such-dir",
    "--eval process.exit(9)",
    "--print 1",
    "--smol",
  ];
  for (const value of bunOptions) {
    it(`ignores BUN_OPTIONS='${value}' and passes it on to the child`, async () => {
      const env = { PATH, BUN_OPTIONS: value };
      expectChildRan(await runToExit(REPORTING_CHILD, { env }), env);
    });
  }

  it("ignores BUN_BE_BUN=1: the executable stays drainit", async () => {
    const env = { PATH, BUN_BE_BUN: "1" };
    expectChildRan(await runToExit(REPORTING_CHILD, { env }), env);
    const version = await runToExit(["--version"], { env });
    expect(version.stdout).toMatch(/^drainit \d+\.\d+\.\d+ /);
  });

  it("opens no debugger port for BUN_INSPECT", async () => {
    const port = await freePort();
    const run = runInit(["sh", "-c", "echo ready; sleep 30"], {
      env: { PATH, BUN_INSPECT: `127.0.0.1:${port}/debug`, BUN_OPTIONS: `--inspect=127.0.0.1:${port}` },
    });
    try {
      await run.waitForOutput(/ready/);
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve("connected");
        });
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      });
      expect(outcome).toBe("ECONNREFUSED");
    } finally {
      run.kill();
    }
  });
});

describe("no /proc", () => {
  it("cannot start without /proc: the runtime aborts before drainit's code runs, with a non-zero exit", () => {
    const root = join(scratch, "root");
    // The helper builds the root (binary, loader, libraries, an empty /proc) and runs once with /proc mounted.
    const withProc = execFileSync("sh", [join(HELPERS, "empty-root.sh"), DRAINIT, root, "--sleep", "0"], {
      encoding: "utf8",
    });
    expect(withProc).toContain("./drainit");
    // The same root, /proc left unmounted.
    let ended = "exit 0";
    let stderr = "";
    try {
      execFileSync("chroot", [root, "/drainit", "--sleep", "0"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      const failed = error as { status: number | null; signal: string | null; stderr: string };
      ended = failed.signal ? `killed by ${failed.signal}` : `exit ${failed.status}`;
      stderr = failed.stderr;
    }
    expect(ended).not.toBe("exit 0");
    expect(stderr).toMatch(/panic|crashed/);
    figure("without /proc", `${ended}; the runtime's crash report on stderr (${stderr.split("\n").length} lines)`);
  });
});

/** Bit of a signal in a /proc/PID/status mask. */
function caught(pid: number, signal: number): boolean {
  try {
    const mask = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Spins until the process catches `signal`; returns how long that took, in ms. */
function spinUntilCaught(pid: number, signal: number, since: number): number {
  const deadline = performance.now() + 10_000;
  while (!caught(pid, signal)) {
    if (performance.now() > deadline) throw new Error(`pid ${pid} never caught signal ${signal}`);
  }
  return performance.now() - since;
}

/** The host pid of drainit under unshare, as soon as it exists. */
function spinForInit(unsharePid: number): number {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const [pid] = childrenOf(unsharePid);
    if (pid !== undefined) return pid;
    if (performance.now() > deadline) throw new Error("drainit did not start");
  }
}

describe("signals in the first milliseconds", () => {
  const RUNS = sized(50, 10);

  it(
    `acts on a TERM sent the moment drainit can catch it, ${RUNS} times over, as PID 1`,
    async () => {
      const windows: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const started = performance.now();
        const run = runInit(["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.01; done"]);
        try {
          const init = spinForInit(run.process.pid!);
          windows.push(spinUntilCaught(init, 15, started));
          process.kill(init, "SIGTERM");
          const result = await Promise.race([
            run.finished,
            new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
          ]);
          expect(result, "the TERM was lost: drainit still runs").not.toBeNull();
          // The child took it either in its trap or, not yet trapping, by dying of it.
          expect([3, 143]).toContain(result!.code);
          expect(textTimeline(result!.stderr)).toMatchObject({ stop: "TERM", forwarded: "TERM" });
        } finally {
          run.kill();
        }
      }
      windows.sort((a, b) => a - b);
      figure("start-up: from spawn to catching TERM (median, p100)", `${windows[windows.length >> 1]!.toFixed(1)} ms, ${windows.at(-1)!.toFixed(1)} ms`);
    },
    FULL ? 300_000 : 60_000,
  );

  it(
    `survives a USR1 sent the moment drainit can catch it, ${RUNS} times over`,
    async () => {
      for (let i = 0; i < RUNS; i++) {
        // Not PID 1: an uncaught USR1 would kill drainit, which unshare would hide.
        const child = spawn(DRAINIT, ["-v", "--", "sh", "-c", "sleep 0.3; exit 6"], {
          env: { PATH },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.stdout.resume();
        const closed = new Promise<[number | null, string | null]>((resolve) =>
          child.on("close", (code, signal) => resolve([code, signal])),
        );
        spinUntilCaught(child.pid!, 10, performance.now());
        process.kill(child.pid!, "SIGUSR1");
        const [code, signal] = await closed;
        expect(signal, stderr).toBeNull();
        // The USR1 was forwarded: the child either died of it (138) or had not started (6).
        expect([6, 138]).toContain(code);
        expect(stderr).toMatch(/drainit: exiting /);
      }
    },
    FULL ? 300_000 : 60_000,
  );
});
