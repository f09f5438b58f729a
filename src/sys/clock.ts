// The real clock: monotonic time and timers of the event loop, for any duration drainit accepts.
import type { Clock, TimerHandle } from "./kernel.ts";

/**
 * The longest delay the runtime's setTimeout honours. A longer one fires after 1 ms instead,
 * and the runtime prints a warning naming an option drainit does not have.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer that may run past MAX_TIMER_MS: `current` is the step of the chain now armed. */
interface ChainedTimer {
  current: ReturnType<typeof setTimeout>;
}

/**
 * Calls `fire` once `ms` have passed (measured on the monotonic clock), however long that is:
 * past MAX_TIMER_MS the wait is a chain of steps, each at most that long. Shorter waits are one
 * plain setTimeout, as before.
 */
export function setLongTimeout(ms: number, fire: () => void): ChainedTimer {
  const timer: ChainedTimer = { current: undefined as unknown as ReturnType<typeof setTimeout> };
  const deadline = performance.now() + ms;
  const arm = (left: number) => {
    if (left <= MAX_TIMER_MS) {
      timer.current = setTimeout(fire, Math.max(0, left));
      return;
    }
    // Whatever the step's own lateness, the next one is measured from the deadline.
    timer.current = setTimeout(() => arm(deadline - performance.now()), MAX_TIMER_MS);
  };
  arm(ms);
  return timer;
}

function clearLongTimeout(timer: ChainedTimer): void {
  clearTimeout(timer.current);
}

export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fire) => ({ id: setLongTimeout(ms, fire) }),
  clearTimer: (timer: TimerHandle) => clearLongTimeout(timer.id as ChainedTimer),
};
