// What the PID-1 core end-to-end tests share: the helper programs, temporary directories and
// clean-up of every process a test started, and views of a process tree through /proc.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { HELPERS, killQuietly, trackedRuns, untilExit, waitFor, type InitRun, type RunOptions } from "./harness.ts";

export const RECORD_SIGNALS = join(HELPERS, "record-signals.sh");
const RECORD_FAMILY = join(HELPERS, "record-family.sh");
export const MAKE_ORPHANS = join(HELPERS, "make-orphans.sh");

/** Every signal drainit forwards, in the order the tests send them. */
export const FORWARDABLE = [
  "HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM", "CONT", "TSTP", "TTIN",
  "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS", "TRAP",
] as const;

const extraPids = new Set<number>();
const dirs: string[] = [];

/** Starts drainit and remembers it, so that the test's processes are ended after it. */
export const start = trackedRuns();

/** Runs drainit to its end (killing it after `timeoutMs`), cleaned up like `start`. */
export function finish(args: string[], options?: RunOptions, timeoutMs = 20_000) {
  return untilExit(start(args, options), timeoutMs);
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

afterEach(() => {
  for (const pid of extraPids) killQuietly(pid);
  extraPids.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

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
