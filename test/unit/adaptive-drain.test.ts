// The adaptive drain in the supervisor: forward once the app's ports were idle for IDLE, never
// before MIN, never after MAX; a second signal or the child's exit still cut it short.
import { describe, expect, it } from "vitest";
import type { AdaptiveDrain } from "../../src/config.ts";
import { TRAFFIC_POLL_MS, type TrafficWatch } from "../../src/supervisor/adaptive-drain.ts";
import { Rig } from "./fakes.ts";

/** A rig whose app's traffic the test scripts: `traffic.at(t)` says data arrived at clock time t. */
function adaptiveRig(drain: Partial<AdaptiveDrain> = {}, extra = {}) {
  const adaptiveDrain: AdaptiveDrain = { minMs: 1_000, maxMs: 15_000, idleMs: 2_000, ports: [], ...drain };
  const rig = new Rig({ drainMs: adaptiveDrain.minMs, adaptiveDrain, ...extra });
  let lastTrafficAt = 0;
  const watched: number[] = [];
  const watch: TrafficWatch = {
    sampleIdleMs: (now) => now - lastTrafficAt,
    get lastActivityAt() {
      return lastTrafficAt;
    },
  };
  rig.effects.watchTraffic = (pid) => {
    watched.push(pid);
    lastTrafficAt = rig.clock.now();
    return watch;
  };
  const traffic = { at: (time: number) => (lastTrafficAt = time), watched };
  return { rig, traffic, child: rig.start() };
}

/** Advances in poll-sized steps, with traffic on every step until `until`. */
function busyUntil(rig: Rig, traffic: { at(t: number): void }, until: number): void {
  while (rig.clock.now() < until) {
    rig.clock.advance(50);
    traffic.at(rig.clock.now());
  }
}

const forwardedTerm = (rig: Rig, child: number) => rig.sent().includes(`-${child}:TERM`);

describe("adaptive drain", () => {
  it("watches the child's traffic from the stop signal on", () => {
    const { rig, traffic, child } = adaptiveRig();
    expect(traffic.watched).toEqual([]);
    rig.signal("TERM");
    expect(traffic.watched).toEqual([child]);
  });

  it("forwards IDLE after the last traffic, within one poll", () => {
    const { rig, traffic, child } = adaptiveRig();
    rig.signal("TERM");
    busyUntil(rig, traffic, 3_000);
    rig.clock.advance(2_000 - 1);
    expect(forwardedTerm(rig, child)).toBe(false);
    rig.clock.advance(TRAFFIC_POLL_MS + 1);
    expect(forwardedTerm(rig, child)).toBe(true);
    expect(rig.log.find(/drain ended: no traffic for 2000ms/)?.fields?.traffic_stopped_ms).toBe(3_000);
  });

  it("never forwards before MIN, even with no traffic at all", () => {
    const { rig, child } = adaptiveRig({ minMs: 5_000, idleMs: 500 });
    rig.signal("TERM");
    rig.clock.advance(4_999);
    expect(forwardedTerm(rig, child)).toBe(false);
    rig.clock.advance(TRAFFIC_POLL_MS + 1);
    expect(forwardedTerm(rig, child)).toBe(true);
  });

  it("forwards at MAX when the traffic never stops", () => {
    const { rig, traffic, child } = adaptiveRig({ maxMs: 4_000 });
    rig.signal("TERM");
    busyUntil(rig, traffic, 3_950);
    expect(forwardedTerm(rig, child)).toBe(false);
    busyUntil(rig, traffic, 4_000);
    expect(forwardedTerm(rig, child)).toBe(true);
    expect(rig.log.find(/drain ended: MAX reached/)).toBeDefined();
  });

  it("lets the budget cut MAX short", () => {
    const { rig, traffic, child } = adaptiveRig({ maxMs: 60_000 }, { budgetMs: 10_000, graceMs: 3_000 });
    rig.signal("TERM");
    busyUntil(rig, traffic, 6_950);
    expect(forwardedTerm(rig, child)).toBe(false);
    busyUntil(rig, traffic, 7_000);
    expect(forwardedTerm(rig, child)).toBe(true);
  });

  it("warns at start when MAX and grace exceed the budget", () => {
    const { rig } = adaptiveRig({ maxMs: 60_000 }, { budgetMs: 30_000, graceMs: 5_000 });
    expect(rig.log.ofLevel("warn").some((r) => /exceeds --budget/.test(r.message))).toBe(true);
  });

  it("stops watching when a second stop signal forwards at once", () => {
    const { rig, traffic, child } = adaptiveRig();
    rig.signal("TERM");
    busyUntil(rig, traffic, 1_500);
    rig.signal("TERM");
    expect(forwardedTerm(rig, child)).toBe(true);
    const sent = rig.sent().length;
    rig.clock.advance(20_000);
    expect(rig.sent().filter((s) => s.endsWith(":TERM")).length).toBe(
      rig.sent().slice(0, sent).filter((s) => s.endsWith(":TERM")).length,
    );
  });

  it("exits at once when the child exits during the drain", () => {
    const { rig, traffic, child } = adaptiveRig();
    rig.signal("TERM");
    busyUntil(rig, traffic, 1_500);
    expect(forwardedTerm(rig, child)).toBe(false);
    rig.exits(child, { code: 0 });
    expect(rig.effects.exitCode).toBe(0);
    expect(rig.effects.exitedAt).toBe(1_500);
  });

  it("falls back to MAX when the traffic cannot be watched", () => {
    const { rig, child } = adaptiveRig({ maxMs: 3_000 });
    rig.effects.watchTraffic = () => {
      throw new Error("no netlink here");
    };
    rig.signal("TERM");
    expect(rig.log.find(/cannot watch the app's traffic: no netlink here/)).toBeDefined();
    rig.clock.advance(2_999);
    expect(forwardedTerm(rig, child)).toBe(false);
    rig.clock.advance(1);
    expect(forwardedTerm(rig, child)).toBe(true);
  });
});
