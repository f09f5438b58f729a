// Timers by name: setting one again replaces it, and a timer cleared after it became due but
// before it ran does not run (the event loop may already have queued it).
import type { Clock, TimerHandle } from "../sys/kernel.ts";

export type TimerName =
  | "detach-echo"
  | "safety"
  | "drain"
  | "budget"
  | "hook"
  | "grace"
  | "leftovers"
  | "poll"
  | "abort"
  | "traffic";

export class Timers {
  private readonly handles = new Map<TimerName, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  set(name: TimerName, ms: number, fire: () => void): void {
    this.clear(name);
    const handle = this.clock.setTimer(ms, () => {
      if (this.handles.get(name) !== handle) return;
      this.handles.delete(name);
      fire();
    });
    this.handles.set(name, handle);
  }

  has(name: TimerName): boolean {
    return this.handles.has(name);
  }

  clear(...names: TimerName[]): void {
    for (const name of names) {
      const handle = this.handles.get(name);
      if (handle === undefined) continue;
      this.clock.clearTimer(handle);
      this.handles.delete(name);
    }
  }

  clearAll(): void {
    this.clear(...this.handles.keys());
  }
}
