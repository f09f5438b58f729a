// What the drain end-to-end tests share: the helper apps, signal timing, ports, the timeline line.
import { processState } from "../../src/sys/proc.ts";
import { join } from "node:path";
import { HELPERS, waitFor, type InitRun } from "./harness.ts";

export const NODE = process.execPath;
export const HTTP_APP = [NODE, join(HELPERS, "http-app.mjs")];
export const SIGNAL_RECORDER = [NODE, join(HELPERS, "signal-recorder.mjs")];
export const STAMP = join(HELPERS, "stamp.mjs");
export const EMPTY_ROOT = join(HELPERS, "empty-root.sh");

export interface AppEvent {
  event: string;
  signal?: string;
  at?: number;
  port?: number;
  pid?: number;
}

/** The JSON lines the helper apps printed on stdout. */
export function appEvents(run: InitRun): AppEvent[] {
  return run.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as AppEvent);
}

/** Waits for the first event of a kind (and signal, if given) and returns it. */
export function waitForEvent(run: InitRun, event: string, signal?: string, timeoutMs = 15_000): Promise<AppEvent> {
  return waitFor(
    () => appEvents(run).find((e) => e.event === event && (signal === undefined || e.signal === signal)) ?? null,
    timeoutMs,
    `the app to report ${event} ${signal ?? ""} (stdout: ${JSON.stringify(run.stdout)}, stderr: ${JSON.stringify(run.stderr)})`,
  );
}

/** Signals drainit and returns the moment it was sent, on the same clock the helpers report. */
export async function signalAt(run: InitRun, signal: NodeJS.Signals): Promise<number> {
  const pid = await run.initPid();
  const at = Date.now();
  process.kill(pid, signal);
  return at;
}

/** The timeline line drainit logs at exit, as key=value fields. */
export function textTimeline(stderr: string): Record<string, string> {
  const line = stderr.split("\n").find((l) => l.startsWith("drainit: timeline "));
  if (!line) throw new Error(`no timeline line in ${JSON.stringify(stderr)}`);
  return Object.fromEntries(
    line
      .slice("drainit: timeline ".length)
      .split(" ")
      .map((pair) => pair.split("=") as [string, string]),
  );
}

/** GET a URL; the status, or 0 when the connection fails. */
export async function statusOf(url: string, timeoutMs = 2_000): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Whether a host pid still exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z";
}

/** Measured numbers, printed so a run shows them (vitest shows a test's console output). */
export function measured(what: string, ms: number): void {
  console.log(`measured: ${what}: ${ms} ms`);
}
