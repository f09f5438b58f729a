// A long run of forwarded signals and reaps: drainit's memory must not grow with the count.
import { describe, expect, it } from "vitest";
import { runInit, sleep } from "../e2e/harness.ts";
import {
  FULL,
  StormControl,
  STORM_CHILD,
  figure,
  memoryOf,
  sendSignalStorm,
  sized,
  stormEvents,
  waitForStormEvent,
  type Memory,
} from "./stress-support.ts";

const SIGNALS = sized(1_000_000, 100_000);
const REAPS = sized(100_000, 5_000);
const ROUNDS = 10;
const WARM_UP_SIGNALS = 100_000;
const KINDS = ["USR1", "USR2", "HUP", "WINCH"];
/** Growth allowed between the warmed-up reading and the last one: the runtime's heap moves by a few MB. */
const NOISE_KB = 8 * 1024;

describe("soak", () => {
  it(
    `forwards ${SIGNALS} signals and reaps ${REAPS} orphans without growing`,
    async () => {
      const control = new StormControl();
      const run = runInit([...STORM_CHILD, control.dir]);
      let reports = 0;
      let orphanRounds = 0;
      const round = async (signals: number, orphans: number) => {
        control.requestOrphans(orphans);
        const sent = await sendSignalStorm(await run.initPid(), signals, 4, KINDS);
        expect(sent).toBe(signals);
        await waitForStormEvent(run, "orphans", 600_000, ++orphanRounds);
        control.requestCounts();
        await waitForStormEvent(run, "counts", 30_000, ++reports);
      };
      const settledMemory = async (): Promise<Memory> => {
        await sleep(1_500);
        return memoryOf(await run.initPid());
      };
      try {
        await waitForStormEvent(run, "ready", 15_000);
        const pid = await run.initPid();
        const atStart = memoryOf(pid);
        // Warm-up: the first signals and reaps load code and size the runtime's heap (which
        // takes about 100,000 signals to reach its working size, whatever the soak's size).
        await round(WARM_UP_SIGNALS, REAPS / ROUNDS);
        const before = await settledMemory();
        const samples: Memory[] = [];
        const started = performance.now();
        for (let i = 0; i < ROUNDS; i++) {
          await round(SIGNALS / ROUNDS, REAPS / ROUNDS);
          samples.push(memoryOf(pid));
        }
        const seconds = (performance.now() - started) / 1000;
        const after = await settledMemory();

        await run.signal("SIGTERM");
        expect((await run.finished).code).toBe(42);
        const mb = (kb: number) => (kb / 1024).toFixed(1);
        const kb = (m: Memory) => `RSS ${mb(m.rssKb)} MB, PSS ${mb(m.pssKb)} MB, anonymous ${mb(m.anonKb)} MB`;
        figure("soak: at start", kb(atStart));
        figure("soak: after warm-up", kb(before));
        figure("soak: after", `${kb(after)} (${SIGNALS} signals, ${REAPS} reaps in ${seconds.toFixed(1)} s)`);
        const made = stormEvents(run).filter((e) => e.event === "orphans");
        expect(made.reduce((sum, e) => sum + e.count!, 0)).toBe(REAPS + REAPS / ROUNDS);
        figure("soak: orphans made per round (s)", made.map((e) => e.seconds).join(" "));
        figure("soak: RSS per round (MB)", samples.map((m) => mb(m.rssKb)).join(" "));
        figure("soak: anonymous per round (MB)", samples.map((m) => mb(m.anonKb)).join(" "));
        // PSS is reported, not asserted: it moves with the number of drainit copies running meanwhile.
        expect(after.rssKb - before.rssKb).toBeLessThan(NOISE_KB);
        expect(after.anonKb - before.anonKb).toBeLessThan(NOISE_KB);
      } finally {
        run.kill();
        control.remove();
      }
    },
    FULL ? 900_000 : 90_000,
  );
});
