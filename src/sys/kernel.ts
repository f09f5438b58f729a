// The system calls drainit needs, as an interface the supervisor acts through.

/** How a process ended. */
export type ExitStatus = { code: number; signal?: undefined } | { signal: number; code?: undefined };

export interface Reaped {
  pid: number;
  status: ExitStatus;
}

/** Where the new process lives: a session of its own, or only a process group of its own. */
type SpawnIsolation = "session" | "group";

export interface SpawnRequest {
  /** argv[0] is looked up in PATH. Raw bytes are passed through untouched. */
  argv: ReadonlyArray<string | Uint8Array>;
  /** Environment entries (`NAME=value`); undefined passes drainit's own environment. */
  env?: ReadonlyArray<string | Uint8Array>;
  isolation: SpawnIsolation;
  /** Working directory of the new process; drainit's own when undefined. */
  cwd?: string;
  /**
   * A terminal to open on fd 0 in the new process (without O_NOCTTY): a new session's leader
   * thereby acquires it as its controlling terminal, which posix_spawn offers no other way to do.
   */
  terminal?: string;
  /**
   * Descriptors from 3 up that the new process gets, open at the same numbers (drainit keeps
   * them close-on-exec). Every other descriptor of drainit's is close-on-exec: not passed on.
   */
  fds?: ReadonlyArray<number>;
}

/** The terminal on a file descriptor, as drainit stands towards it. */
export interface TerminalInfo {
  /** The path that opens this same terminal again; null when there is none. */
  path: string | null;
  /** drainit leads the session this terminal controls. */
  leadsSession: boolean;
  /** drainit's process group is the terminal's foreground group. */
  inForeground: boolean;
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
  /** The terminal on `fd`, or null when it is not a terminal. */
  terminalOf(fd: number): TerminalInfo | null;
  /** Gives up the controlling terminal (TIOCNOTTY); throws when the kernel refuses. */
  detachTerminal(fd: number): void;
  /** Makes `pgid` the foreground process group of the terminal on `fd` (tcsetpgrp); throws on failure. */
  setForegroundGroup(fd: number, pgid: number): void;
  /** One netlink sock_diag round trip: sends the request, returns the answer's datagrams. */
  sockDiagDump(request: Uint8Array): Uint8Array[];
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
