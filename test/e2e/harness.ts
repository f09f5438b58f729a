// Runs the compiled binary as PID 1 of a new PID namespace, and watches it from outside.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, onTestFailed } from "vitest";
import { allProcesses, type ProcessStat } from "../../src/sys/proc.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DRAINIT = join(ROOT, "dist", "drainit");
export const HELPERS = join(ROOT, "test", "helpers");

if (!existsSync(DRAINIT)) throw new Error(`${DRAINIT} is missing: run npm run build first`);

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string;
  /** Run outside a PID namespace (drainit is then not PID 1). */
  notPid1?: boolean;
  /** The program to start instead of dist/drainit (a link named dumb-init, say). */
  binary?: string;
}

export class InitRun {
  readonly process: ChildProcess;
  readonly finished: Promise<Finished>;
  stdout = "";
  stderr = "";
  private hostPid: number | null = null;

  constructor(args: string[], options: RunOptions = {}) {
    const binary = options.binary ?? DRAINIT;
    const [command, argv] = options.notPid1
      ? [binary, args]
      : ["unshare", ["--pid", "--fork", "--mount-proc", binary, ...args]];
    this.process = spawn(command, argv, {
      env: options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: options.cwd,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) this.process.stdin!.end(options.input);
    this.process.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.process.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.finished = new Promise((resolve) => {
      this.process.on("close", (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      );
    });
    if (options.notPid1) this.hostPid = this.process.pid!;
  }

  /** drainit's pid as seen from outside the namespace (the child of unshare). */
  async initPid(timeoutMs = 5_000): Promise<number> {
    if (this.hostPid !== null) return this.hostPid;
    const parent = this.process.pid!;
    const found = await waitFor(() => childrenOf(parent)[0] ?? null, timeoutMs, "drainit to start");
    this.hostPid = found;
    return found;
  }

  async signal(signal: NodeJS.Signals | number): Promise<void> {
    process.kill(await this.initPid(), signal);
  }

  /** Waits until stdout (or stderr) matches. */
  async waitForOutput(pattern: RegExp, stream: "stdout" | "stderr" = "stdout", timeoutMs = 10_000): Promise<string> {
    return waitFor(
      () => {
        const match = pattern.exec(stream === "stdout" ? this.stdout : this.stderr);
        return match ? match[0] : null;
      },
      timeoutMs,
      `${stream} to match ${pattern} (stdout: ${JSON.stringify(this.stdout)}, stderr: ${JSON.stringify(this.stderr)})`,
    );
  }

  /**
   * Ends the run and everything under it, whatever state it is in (for test clean-up): a run
   * that is not PID 1 leaves its descendants behind.
   */
  kill(): void {
    const root = this.process.pid;
    if (root !== undefined) for (const { pid } of descendantsOf(root)) killQuietly(pid);
    if (this.process.exitCode === null && this.process.signalCode === null) {
      if (this.hostPid !== null) killQuietly(this.hostPid);
      this.process.kill("SIGKILL");
    }
  }
}

export function runInit(args: string[], options?: RunOptions): InitRun {
  return new InitRun(args, options);
}

/**
 * For a test file: the one run tracker. A runInit whose runs (and all they started) are killed
 * after each test, and whose command line and output are printed when the test fails.
 */
export function trackedRuns(): (args: string[], options?: RunOptions) => InitRun {
  const runs: InitRun[] = [];
  afterEach(() => {
    for (const run of runs.splice(0)) run.kill();
  });
  return (args, options) => {
    const run = runInit(args, options);
    runs.push(run);
    onTestFailed(() => console.log(`drainit ${args.join(" ")}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`));
    return run;
  };
}

/** A port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs to completion, with a deadline after which everything is killed. */
export function runToExit(args: string[], options?: RunOptions, timeoutMs = 20_000): Promise<Finished> {
  return untilExit(new InitRun(args, options), timeoutMs);
}

/** Waits for a run's end, killing it and all it started after `timeoutMs`. */
export async function untilExit(run: InitRun, timeoutMs: number): Promise<Finished> {
  const timer = setTimeout(() => run.kill(), timeoutMs);
  try {
    return await run.finished;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL for a pid that may be gone already. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Every process below `root` (not `root` itself), as the host sees them. */
export function descendantsOf(root: number, processes = allProcesses()): ProcessStat[] {
  const byParent = new Map<number, ProcessStat[]>();
  for (const entry of processes) {
    const siblings = byParent.get(entry.ppid) ?? [];
    siblings.push(entry);
    byParent.set(entry.ppid, siblings);
  }
  const found: ProcessStat[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Pids whose parent is `pid`, from /proc. */
export function childrenOf(pid: number): number[] {
  return allProcesses()
    .filter((entry) => entry.ppid === pid)
    .map((entry) => entry.pid);
}

/** Polls `probe` until it returns non-null. */
export async function waitFor<T>(probe: () => T | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
