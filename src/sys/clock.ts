// The real clock: monotonic time and timers of the event loop.
import type { Clock, TimerHandle } from "./kernel.ts";

export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fire) => ({ id: setTimeout(fire, ms) }),
  clearTimer: (timer: TimerHandle) => clearTimeout(timer.id as ReturnType<typeof setTimeout>),
};
