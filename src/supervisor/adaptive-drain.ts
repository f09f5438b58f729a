// The adaptive drain (--drain MIN..MAX --drain-until-idle IDLE): ends the drain once the app's
// ports saw no traffic for IDLE, never before MIN, at MAX at the latest.
import type { AdaptiveDrain } from "../config.ts";
import type { Logger } from "../log.ts";
import { describeError } from "../log.ts";
import type { Clock } from "../sys/kernel.ts";
import type { Timers } from "./timers.ts";

/** How often the adaptive drain looks at the app's traffic. */
export const TRAFFIC_POLL_MS = 200;

/** How long the app's ports have seen no traffic, sampled on demand. */
export interface TrafficWatch {
  /** Takes a snapshot and returns how long the app's ports have seen no traffic. */
  sampleIdleMs(now: number): number;
  /** Clock time of the last traffic seen. */
  readonly lastActivityAt: number;
}

export interface AdaptiveDrainContext {
  clock: Clock;
  log: Logger;
  timers: Timers;
  /** Starts watching the app's ports; throws when the traffic cannot be seen. */
  watchTraffic(appPid: number): TrafficWatch;
}

/**
 * Starts polling from the stop signal (`stopAt`); `ended` runs once, when the app was idle long
 * enough or at `maxMs`. Without a view of the traffic, the drain lasts `maxMs`.
 */
export function startAdaptiveDrain(
  ctx: AdaptiveDrainContext,
  settings: AdaptiveDrain,
  appPid: number,
  stopAt: number,
  maxMs: number,
  ended: () => void,
): void {
  const { clock, log, timers } = ctx;
  const { minMs, idleMs } = settings;
  let watch: TrafficWatch | null = null;
  try {
    watch = ctx.watchTraffic(appPid);
  } catch (error) {
    log.warn(`cannot watch the app's traffic: ${describeError(error)}`);
  }
  const end = (reason: string) => {
    timers.clear("drain", "traffic");
    const stoppedAt = watch ? Math.round(watch.lastActivityAt - stopAt) : undefined;
    log.info(`drain ended: ${reason}`, { traffic_stopped_ms: stoppedAt, drain_ms: Math.round(clock.now() - stopAt) });
    ended();
  };
  timers.set("drain", maxMs, () => end("MAX reached"));
  if (!watch) return;
  const activeWatch = watch;
  const poll = () => {
    // Sampled on every turn, MIN or not: a connection that comes and goes must still count.
    const idle = activeWatch.sampleIdleMs(clock.now());
    if (clock.now() - stopAt >= minMs && idle >= idleMs) end(`no traffic for ${idleMs}ms`);
    else timers.set("traffic", TRAFFIC_POLL_MS, poll);
  };
  timers.set("traffic", TRAFFIC_POLL_MS, poll);
}
