// Listeners for every signal drainit forwards, registered before anything else is loaded:
// without a listener SIGUSR1 kills the runtime, and a stop signal sent during start-up
// must wait in line rather than be lost.
import { FORWARDED_SIGNALS, SIGCHLD, signalName } from "../signals.ts";

type SignalRoute = (signal: number) => void;

/** Signals of the same kind coalesce in the kernel too; the cap only bounds a storm before start. */
const MAX_QUEUED = 256;
const queued: number[] = [];
let route: SignalRoute | null = null;
let onListenerError: (error: unknown) => void = () => {};

for (const signal of [...FORWARDED_SIGNALS, SIGCHLD]) {
  process.on(`SIG${signalName(signal)}` as NodeJS.Signals, () => {
    try {
      if (route) route(signal);
      else if (queued.length < MAX_QUEUED) queued.push(signal);
    } catch (error) {
      onListenerError(error);
    }
  });
}

/** From now on every signal goes to `next`; those that came before are delivered first, in order. */
export function routeSignals(next: SignalRoute, onError: (error: unknown) => void): void {
  onListenerError = onError;
  route = next;
  for (const signal of queued.splice(0)) {
    try {
      next(signal);
    } catch (error) {
      onError(error);
    }
  }
}
