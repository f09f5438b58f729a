// The system calls drainit needs, as an interface the supervisor acts through.

/** How a process ended. */
export type ExitStatus = { code: number; signal?: undefined } | { signal: number; code?: undefined };

export interface Reaped {
  pid: number;
  status: ExitStatus;
}

/** Where the new process lives: a session of its own, or only a process group of its own. */
export type SpawnIsolation = "session" | "group";

export interface SpawnRequest {
  /** argv[0] is looked up in PATH. Raw bytes are passed through untouched. */
  argv: ReadonlyArray<string | Uint8Array>;
  /** Environment entries (`NAME=value`); undefined passes drainit's own environment. */
  env?: ReadonlyArray<string | Uint8Array>;
  isolation: SpawnIsolation;
  /** Working directory of the new process; drainit's own when undefined. */
  cwd?: string;
}

export type SpawnResult =
  | { pid: number; errno?: undefined }
  | { pid?: undefined; errno: number; reason: string; notFound: boolean };

export interface Kernel {
  /** Starts a process with every signal at its default disposition and none blocked. */
  spawn(request: SpawnRequest): SpawnResult;
  /** One non-blocking wait for any child: a reaped child, "none-ready", or "no-children". */
  reapOne(): Reaped | "none-ready" | "no-children";
  /** Sends a signal; a negative pid names a process group. False when no such process exists. */
  kill(pid: number, signal: number): boolean;
  becomeSubreaper(): void;
  setParentDeathSignal(signal: number): void;
  pid(): number;
}

/** Time, and timers, as the supervisor sees them. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fire: () => void): TimerHandle;
  clearTimer(timer: TimerHandle): void;
}

export type TimerHandle = { readonly id: unknown };

/** The exit code a shell would report: the code, or 128 + the signal that ended the process. */
export function exitCodeOf(status: ExitStatus): number {
  return status.signal !== undefined ? 128 + status.signal : status.code;
}
