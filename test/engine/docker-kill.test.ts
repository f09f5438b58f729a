// `docker kill -s SIG` for every signal 1-64 but KILL and STOP, on drainit as the ENTRYPOINT:
// drainit (PID 1) survives each, and the app receives each one except those the README lists as
// not forwarded. Docker's tini (tini-static as ENTRYPOINT) in the same table, for comparison.
import { describe, expect, it } from "vitest";
import { docker, keepResult, useEngine, type Engine } from "./engine.ts";

const engine = useEngine(() => docker("docker"));

const KILL = 9;
const STOP = 19;
/** Not forwarded (README, "Signals"): CHLD is drainit's own business, reaping. */
const NOT_FORWARDED = new Set([17]);
/** In group mode, forwarded as STOP (README, "Signals"): the app is stopped, not told. */
const FORWARDED_AS_STOP = new Set([20, 21, 22]);
/**
 * dockerd refuses 32 and 33 ("The linux daemon does not support signal 32"): they are the C
 * library's internal signals, which its signal table leaves out.
 */
const REFUSED_BY_DOCKERD = new Set([32, 33]);
const SENT = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => n !== KILL && n !== STOP && !REFUSED_BY_DOCKERD.has(n));

/**
 * The app: a busybox shell that traps every signal it can and prints "got N" for each. It reads
 * from a FIFO opened read-write (no data, no end of file) so that it has no child process: only it
 * is in its process group.
 */
const APP = [
  "for n in $(seq 1 64); do",
  '  case $n in 9|17|19|32|33) continue;; esac',
  '  trap "echo got $n" $n',
  "done",
  "mkfifo /tmp/never && exec 3<>/tmp/never && rm /tmp/never",
  "echo ready",
  "while :; do read -t 1 _ <&3; done",
].join("\n");

interface Row {
  signal: number;
  survived: boolean;
  received: boolean;
  /** The app was stopped (state T) instead; the test sent CONT to go on. */
  stopped: boolean;
}

/** The state letters (R, S, T…) of the container's processes, from the host's ps. */
async function states(engine: Engine, name: string): Promise<string[]> {
  const top = await engine.ok(["top", name, "-o", "pid,stat"]);
  return top.trim().split("\n").slice(1).map((line) => line.trim().split(/\s+/)[1]?.[0] ?? "");
}

/** Sends each signal in turn; after one that ends the container, the rest go to a new one. */
async function signalTable(engine: Engine, image: string, args: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  let container: { name: string; logs: ReturnType<Engine["follow"]> } | null = null;
  try {
    for (const signal of SENT) {
      if (!container) {
        const name = await engine.start("kill", [image, ...args, "sh", "-c", APP]);
        container = { name, logs: engine.follow(name) };
        expect(await container.logs.waitFor(/ready/, 10_000), `the app did not start: ${container.logs.output()}`).toBe(true);
      }
      const { name, logs } = container;
      await engine.ok(["kill", "-s", String(signal), name]);
      const pattern = new RegExp(`^got ${signal}$`, "m");
      // A signal that is not forwarded is given 300 ms to show up all the same.
      const received = await logs.waitFor(pattern, NOT_FORWARDED.has(signal) ? 300 : 1_000);
      const survived = await engine.running(name);
      let stopped = false;
      if (survived && !received && (await states(engine, name)).includes("T")) {
        stopped = true;
        const continued = (logs.output().match(/^got 18$/gm) ?? []).length;
        await engine.ok(["kill", "-s", "CONT", name]);
        await logs.waitFor(new RegExp(`(^got 18$[^]*){${continued + 1}}`, "m"), 2_000);
      }
      rows.push({ signal, received, survived, stopped });
      if (!survived) {
        logs.stop();
        container = null;
      }
    }
    return rows;
  } finally {
    container?.logs.stop();
  }
}

function table(rows: Row[]): string {
  const what = (r: Row) => (r.received ? "received" : r.stopped ? "stopped" : "not received");
  return rows.map((r) => `${r.signal}\t${r.survived ? "survived" : "DIED"}\t${what(r)}`).join("\n");
}

describe("docker kill -s SIG, every signal but KILL and STOP", () => {
  it("drainit survives each, and the app receives each one that is forwarded", async () => {
    const rows = await signalTable(engine(), "drainit-test/drainit", ["--"]);
    keepResult("signals-drainit", table(rows));
    expect(rows.filter((r) => !r.survived).map((r) => r.signal)).toEqual([]);
    expect(rows.length).toBe(SENT.length);
    const forwarded = (n: number) => !NOT_FORWARDED.has(n) && !FORWARDED_AS_STOP.has(n);
    expect(rows.filter((r) => r.received !== forwarded(r.signal)).map((r) => r.signal)).toEqual([]);
    expect(rows.filter((r) => r.stopped).map((r) => r.signal)).toEqual([...FORWARDED_AS_STOP]);
  }, 180_000);

  it("tini-static, for comparison: the same table", async () => {
    const rows = await signalTable(engine(), "drainit-test/tini", []);
    keepResult("signals-tini", table(rows));
    // tini waits for signals with sigtimedwait, every one blocked: it survives them all.
    expect(rows.filter((r) => !r.survived).map((r) => r.signal)).toEqual([]);
    expect(rows.length).toBe(SENT.length);
  }, 180_000);
});
