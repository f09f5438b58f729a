// Orphans created and exiting as fast as the child can fork them: drainit, as PID 1,
// inherits every one and must reap them all, promptly.
import { describe, expect, it } from "vitest";
import { runInit, sleep } from "../e2e/harness.ts";
import {
  FULL,
  StormControl,
  STORM_CHILD,
  childStates,
  pidInNamespace,
  figure,
  sized,
  stormEvents,
  waitForStormEvent,
} from "./stress-support.ts";

const ORPHANS = sized(100_000, 5_000);

describe("zombie storm", () => {
  it(
    `reaps ${ORPHANS} orphans: no zombie is left 100 ms after the last one exits`,
    async () => {
      const control = new StormControl();
      const run = runInit([...STORM_CHILD, control.dir]);
      try {
        const child = (await waitForStormEvent(run, "ready", 15_000)).pid!;
        const pid = await run.initPid();
        const started = performance.now();
        control.requestOrphans(ORPHANS);

        let peakZombies = 0;
        let lastExitSeenAt = 0;
        const deadline = Date.now() + (FULL ? 600_000 : 60_000);
        for (;;) {
          const { zombies, live } = childStates(pid);
          peakZombies = Math.max(peakZombies, zombies);
          const made = stormEvents(run).some((e) => e.event === "orphans");
          // Once the child has made them all and no orphan still runs, the last one has exited.
          if (made && live.length === 1) {
            lastExitSeenAt = performance.now();
            break;
          }
          if (Date.now() > deadline) throw new Error(`orphans still running: ${live.length}, stderr ${run.stderr}`);
          await sleep(2);
        }
        await sleep(100);
        const after = childStates(pid);
        expect(after.zombies).toBe(0);
        // What still runs is the main child alone (seen from outside under another pid).
        expect(after.live.map(pidInNamespace)).toEqual([child]);
        const reapedAt = performance.now();
        const seconds = (lastExitSeenAt - started) / 1000;
        const forkSeconds = stormEvents(run).find((e) => e.event === "orphans")!.seconds!;

        await run.signal("SIGTERM");
        expect((await run.finished).code).toBe(42);
        figure("zombie storm: orphans", ORPHANS);
        figure("zombie storm: peak zombies at once", peakZombies);
        figure("zombie storm: made in", `${forkSeconds.toFixed(2)} s (${Math.round(ORPHANS / forkSeconds)}/s)`);
        figure("zombie storm: all reaped after", `${seconds.toFixed(2)} s (${Math.round(ORPHANS / seconds)}/s)`);
        figure("zombie storm: zombies 100 ms after the last exit", `${after.zombies} (checked at +${Math.round(reapedAt - lastExitSeenAt)} ms)`);
      } finally {
        run.kill();
        control.remove();
      }
    },
    FULL ? 700_000 : 90_000,
  );
});

