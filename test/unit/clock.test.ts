import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_DURATION_MS } from "../../src/config.ts";
import { MAX_TIMER_MS, monotonicClock } from "../../src/sys/clock.ts";

const DAY_MS = 24 * 3600 * 1000;

describe("the real clock's timers", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Advances to 1 ms before `ms` (not fired yet), then to `ms` (fired once). */
  function expectFiresAtExactly(ms: number): void {
    const fire = vi.fn();
    monotonicClock.setTimer(ms, fire);
    vi.advanceTimersByTime(ms - 1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * DAY_MS);
    expect(fire).toHaveBeenCalledTimes(1);
  }

  it("fire at exactly 30 days, and not before", () => expectFiresAtExactly(30 * DAY_MS));
  it("fire at exactly 2^31 ms, one past the runtime's limit", () => expectFiresAtExactly(2 ** 31));
  it("fire at exactly 2^32 + 5 ms", () => expectFiresAtExactly(2 ** 32 + 5));
  it("fire at exactly the longest duration drainit accepts", () => expectFiresAtExactly(MAX_DURATION_MS));
  it("fire at exactly the runtime's limit and at short durations", () => {
    expectFiresAtExactly(MAX_TIMER_MS);
    expectFiresAtExactly(1);
    expectFiresAtExactly(5_000);
  });

  it("never fire once cleared, in whichever step of the chain", () => {
    const fire = vi.fn();
    const timer = monotonicClock.setTimer(60 * DAY_MS, fire);
    vi.advanceTimersByTime(40 * DAY_MS);
    monotonicClock.clearTimer(timer);
    vi.advanceTimersByTime(40 * DAY_MS);
    expect(fire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never hand the runtime a delay it cannot honour", () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    monotonicClock.setTimer(MAX_DURATION_MS, () => {});
    vi.advanceTimersByTime(MAX_DURATION_MS);
    const delays = spy.mock.calls.map((call) => call[1] ?? 0);
    expect(delays.length).toBeGreaterThan(1);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
    spy.mockRestore();
  });
});
