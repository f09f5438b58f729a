// A storm of forwarded signals from several senders at once, then the stop signal:
// drainit stays up, forwards what the kernel did not coalesce, and drains as usual.
import { describe, expect, it } from "vitest";
import { processState } from "../../src/sys/proc.ts";
import { textTimeline } from "../e2e/drain-support.ts";
import { runInit } from "../e2e/harness.ts";
import {
  FULL,
  StormControl,
  STORM_CHILD,
  figure,
  sendSignalStorm,
  sized,
  stormEvents,
  waitForStormEvent,
} from "./stress-support.ts";

const TOTAL = sized(100_000, 20_000);
const SENDERS = 4;
const KINDS = ["USR1", "USR2", "HUP", "WINCH"];

describe("signal storm", () => {
  it(
    `survives ${TOTAL} mixed signals from ${SENDERS} senders, then drains and exits with the child's code`,
    async () => {
      const control = new StormControl();
      const run = runInit(["--drain", "200ms", ...STORM_CHILD, control.dir]);
      try {
        await waitForStormEvent(run, "ready", 15_000);
        const pid = await run.initPid();
        const started = performance.now();
        const sent = await sendSignalStorm(pid, TOTAL, SENDERS, KINDS);
        const stormMs = performance.now() - started;
        // A sender stops at the first failed kill(2): every one was delivered to a living drainit.
        expect(sent).toBe(TOTAL);
        expect(processState(pid)).toMatch(/^[RSD]$/);

        control.requestCounts();
        const counts = (await waitForStormEvent(run, "counts", 15_000)).counts!;
        await run.signal("SIGTERM");
        const result = await run.finished;

        expect(result.code).toBe(42);
        const term = stormEvents(run).find((e) => e.event === "term");
        expect(term).toBeDefined();
        const timeline = textTimeline(result.stderr);
        expect(timeline).toMatchObject({ stop: "TERM", forwarded: "TERM", child: "exited(42)", exit_code: "42" });
        expect(Number(timeline.forwarded_ms)).toBeGreaterThanOrEqual(190);
        for (const kind of KINDS) expect(counts[kind]).toBeGreaterThan(0);

        const received = KINDS.reduce((sum, kind) => sum + counts[kind]!, 0);
        expect(received).toBeLessThanOrEqual(TOTAL);
        figure("signal storm: sent", `${sent} in ${Math.round(stormMs)} ms by ${SENDERS} senders`);
        figure("signal storm: received by the child", received);
        figure("signal storm: coalesced", `${TOTAL - received} (${(((TOTAL - received) / TOTAL) * 100).toFixed(1)}%)`);
      } finally {
        run.kill();
        control.remove();
      }
    },
    FULL ? 300_000 : 60_000,
  );
});
