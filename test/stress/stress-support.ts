// What the stress tests share: the size switch, the helper programs, and readings taken
// from /proc about drainit (memory, zombies) while it runs as PID 1.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processState } from "../../src/sys/proc.ts";
import { waitFor, type InitRun } from "../e2e/harness.ts";

/** `DRAINIT_STRESS=full` (npm run stress) runs the sizes the README reports; otherwise a reduced run. */
export const FULL = process.env.DRAINIT_STRESS === "full";

/** The full figure, or the reduced one used inside `npm test`. */
export function sized(full: number, reduced: number): number {
  return FULL ? full : reduced;
}

const PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), "programs");
/** The command that runs the storm child (Node: its signal handling holds under any storm). */
export const STORM_CHILD = [process.execPath, join(PROGRAMS, "storm-child.mjs")];
const SIGNAL_SENDER = join(PROGRAMS, "signal-sender.pl");

/** Prints a measured figure so that a run shows it next to the test that produced it. */
export function figure(what: string, value: string | number): void {
  console.log(`stress figure: ${what}: ${value}`);
}

export interface StormEvent {
  event: string;
  pid?: number;
  count?: number;
  seconds?: number;
  counts?: Record<string, number>;
}

export function stormEvents(run: InitRun): StormEvent[] {
  return run.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as StormEvent);
}

/** Waits for the n-th event of a kind from the storm child (1-based). */
export function waitForStormEvent(run: InitRun, event: string, timeoutMs: number, nth = 1): Promise<StormEvent> {
  return waitFor(
    () => {
      const found = stormEvents(run).filter((e) => e.event === event)[nth - 1];
      if (found) return found;
      if (run.process.exitCode !== null || run.process.signalCode !== null) {
        throw new Error(`drainit ended (${run.process.exitCode ?? run.process.signalCode}) before ${event}: ${run.stderr.slice(-2000)}`);
      }
      return null;
    },
    timeoutMs,
    `storm-child to report ${event} #${nth} (stderr: ${JSON.stringify(run.stderr.slice(-2000))})`,
  );
}

/** A control directory for the storm child: requests are files that appear in it. */
export class StormControl {
  readonly dir = mkdtempSync(join(tmpdir(), "drainit-storm-"));

  requestOrphans(count: number): void {
    writeFileSync(join(this.dir, `orphans-${count}`), "");
  }

  requestCounts(): void {
    writeFileSync(join(this.dir, "report"), "");
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `senders` signal-sender.pl processes at once, splitting `total` signals between them. */
export async function sendSignalStorm(pid: number, total: number, senders: number, names: string[]): Promise<number> {
  const share = Math.ceil(total / senders);
  const runs = Array.from({ length: senders }, (_, i) => {
    // Each sender starts the cycle at a different name, so all kinds arrive at once.
    const rotated = [...names.slice(i % names.length), ...names.slice(0, i % names.length)];
    const count = Math.min(share, total - i * share);
    return new Promise<number>((resolve, reject) => {
      const sender = spawn("perl", [SIGNAL_SENDER, String(pid), String(count), rotated.join(",")], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      sender.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      sender.on("error", reject);
      sender.on("close", () => resolve(Number(out.trim())));
    });
  });
  const sent = await Promise.all(runs);
  return sent.reduce((a, b) => a + b, 0);
}

export interface Memory {
  rssKb: number;
  /** Shares the executable's pages with every other drainit running at the time: it moves with them. */
  pssKb: number;
  /** Heap and stacks: what would grow if drainit kept something per signal or per reap. */
  anonKb: number;
}

/** Resident, proportional and anonymous memory of a process, from /proc/PID/smaps_rollup. */
export function memoryOf(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/smaps_rollup`);
    return Number(match[1]);
  };
  return { rssKb: field("Rss"), pssKb: field("Pss"), anonKb: field("Anonymous") };
}

/** The direct children of a process, from /proc/PID/task/PID/children (cheap enough to poll). */
export function directChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The pid a host process has inside its own (innermost) PID namespace, from NSpid. */
export function pidInNamespace(hostPid: number): number {
  const status = readFileSync(`/proc/${hostPid}/status`, "utf8");
  const ids = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
  return Number(ids[ids.length - 1]);
}

/** drainit's children, split into zombies and live processes. */
export function childStates(initPid: number): { zombies: number; live: number[] } {
  let zombies = 0;
  const live: number[] = [];
  for (const pid of directChildren(initPid)) {
    const state = processState(pid);
    if (state === "Z") zombies += 1;
    else if (state !== null) live.push(pid);
  }
  return { zombies, live };
}

/** Processes on the whole machine whose environment holds `marker` (what a run left behind). */
export function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker) && processState(Number(entry)) !== "Z") {
        found.push(Number(entry));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Ends (by pid) whatever still carries `marker`, and says what that was: a test expecting none leaves none behind. */
export function endProcessesWithMarker(marker: string): number[] {
  const left = processesWithMarker(marker);
  for (const pid of left) process.kill(pid, "SIGKILL");
  return left;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
