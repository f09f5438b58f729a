// What the PID-1 core end-to-end tests share: the helper programs, temporary directories and
// clean-up of every process a test started, and views of a process tree through /proc.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { HELPERS, allProcesses, runInit, waitFor, type InitRun, type ProcEntry, type RunOptions } from "./harness.ts";

export const RECORD_SIGNALS = join(HELPERS, "record-signals.sh");
export const RECORD_FAMILY = join(HELPERS, "record-family.sh");
export const MAKE_ORPHANS = join(HELPERS, "make-orphans.sh");

/** Every signal drainit forwards, in the order the tests send them. */
export const FORWARDABLE = [
  "HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM", "CONT", "TSTP", "TTIN",
  "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS", "TRAP",
] as const;

const runs: InitRun[] = [];
const extraPids = new Set<number>();
const dirs: string[] = [];

/** Starts drainit and remembers it, so that the test's processes are ended after it. */
export function start(args: string[], options?: RunOptions): InitRun {
  const run = runInit(args, options);
  runs.push(run);
  return run;
}

/** Runs drainit to its end (killing it after `timeoutMs`), cleaned up like `start`. */
export async function finish(args: string[], options?: RunOptions, timeoutMs = 20_000) {
  const run = start(args, options);
  const timer = setTimeout(() => killTree(run), timeoutMs);
  try {
    return await run.finished;
  } finally {
    clearTimeout(timer);
  }
}

/** A pid this test knows it started but that may have left the tree (reparented elsewhere). */
export function alsoKillAtEnd(pid: number): void {
  extraPids.add(pid);
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "drainit-core-"));
  dirs.push(dir);
  return dir;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Ends a run and everything under it: a run that is not PID 1 leaves its descendants behind. */
function killTree(run: InitRun): void {
  const root = run.process.pid;
  if (root !== undefined) for (const { pid } of descendantsOf(root)) killPid(pid);
  run.kill();
}

afterEach(() => {
  for (const run of runs.splice(0)) killTree(run);
  for (const pid of extraPids) killPid(pid);
  extraPids.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});


/** Every process below `root` (not `root` itself), as the host sees them. */
export function descendantsOf(root: number, processes = allProcesses()): ProcEntry[] {
  const byParent = new Map<number, ProcEntry[]>();
  for (const entry of processes) {
    const siblings = byParent.get(entry.ppid) ?? [];
    siblings.push(entry);
    byParent.set(entry.ppid, siblings);
  }
  const found: ProcEntry[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** The state letter of a process (R, S, T, Z…), or null when it is gone. */
export function stateOf(pid: number): string | null {
  return allProcesses().find((entry) => entry.pid === pid)?.state ?? null;
}

export function linesOf(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Waits until FILE holds `line` (as a whole line). */
export function waitForLine(file: string, line: string, timeoutMs = 10_000): Promise<true> {
  return waitFor(
    () => (linesOf(file).includes(line) ? true : null),
    timeoutMs,
    `${line} in ${file} (holds ${JSON.stringify(linesOf(file))})`,
  );
}

/** Waits until `count` helpers printed "ready PID"; returns their pids in order. */
export async function readyPids(run: InitRun, count = 1, timeoutMs = 10_000): Promise<number[]> {
  await run.waitForOutput(new RegExp(`(ready \\d+\\n[\\s\\S]*){${count}}`), "stdout", timeoutMs);
  return [...run.stdout.matchAll(/ready (\d+)/g)].map((match) => Number(match[1]));
}

/** Nonempty stderr lines. */
export function stderrLines(stderr: string): string[] {
  return stderr.split("\n").filter(Boolean);
}

/** Sends USR1 to drainit; reports what a child and a grandchild in the child's group recorded. */
export async function usr1InFamily(
  args: string[],
  options?: RunOptions,
): Promise<{ child: string[]; grandchild: string[] }> {
  const dir = tempDir();
  const childFile = join(dir, "child");
  const grandchildFile = join(dir, "grandchild");
  const run = start([...args, "bash", RECORD_FAMILY, childFile, grandchildFile], options);
  await readyPids(run, 2);
  await run.signal("SIGUSR1");
  await waitForLine(childFile, "USR1");
  // A group-wide kill reaches both at once; a grandchild that missed it has had ample time.
  await waitFor(() => (linesOf(grandchildFile).length ? true : null), 3_000, "grandchild").catch(() => null);
  return { child: linesOf(childFile), grandchild: linesOf(grandchildFile) };
}
