// Stand-ins for the kernel, the clock, the logger and the side effects, so the supervisor can be
// driven event by event without starting a process or waiting for real time.
import { LogLevel, type Config, type LogLevelName } from "../../src/config.ts";
import type { LogFields, Logger } from "../../src/log.ts";
import { SIGCHLD, SIGKILL, SIGNALS } from "../../src/signals.ts";
import type { TrafficWatch } from "../../src/supervisor/adaptive-drain.ts";
import type { Phase } from "../../src/supervisor/phases.ts";
import { Supervisor, type Effects, type Launch } from "../../src/supervisor/supervisor.ts";
import type { HookOutcome } from "../../src/supervisor/timeline.ts";
import type {
  Clock,
  ExitStatus,
  Kernel,
  Reaped,
  SpawnRequest,
  SpawnResult,
  TerminalInfo,
  TimerHandle,
} from "../../src/sys/kernel.ts";

const ERRNO = {
  ENOENT: { errno: 2, reason: "No such file or directory", notFound: true },
  EACCES: { errno: 13, reason: "Permission denied", notFound: false },
} as const;
export type SpawnFailure = keyof typeof ERRNO;

export interface FakeProcess {
  pid: number;
  pgid: number;
  /** Set when the process ended; it stays a zombie (still signalable, still in its group) until reaped. */
  status: ExitStatus | null;
  reaped: boolean;
  /** Signals the process ends by when it receives them; any other signal it survives. */
  diesOn: Set<number>;
  received: number[];
}

export interface KillCall {
  pid: number;
  signal: number;
}

/**
 * A kernel with a process table. Processes end when the test says so (`exit`) or when they receive
 * a signal they die on; exits queue up and reapOne() hands them back in order, as waitpid(-1) does.
 */
export class FakeKernel implements Kernel {
  readonly spawns: SpawnRequest[] = [];
  /** Pids of successful spawns, in order: the child first, then hooks. */
  readonly spawnedPids: number[] = [];
  readonly kills: KillCall[] = [];
  readonly processes = new Map<number, FakeProcess>();
  subreaperCalls = 0;
  parentDeathSignal: number | null = null;
  private readonly exitQueue: Reaped[] = [];
  private readonly spawnFailures = new Map<string, SpawnFailure>();
  private nextPid = 100;

  constructor(private readonly ownPid = 1) {}

  /** The next spawn of a program named `program` fails with `errno`. */
  failSpawn(program: string, errno: SpawnFailure): void {
    this.spawnFailures.set(program, errno);
  }

  spawn(request: SpawnRequest): SpawnResult {
    this.spawns.push(request);
    const program = String(request.argv[0]);
    const failure = this.spawnFailures.get(program);
    if (failure) {
      this.spawnFailures.delete(program);
      const { errno, reason, notFound } = ERRNO[failure];
      return { errno, reason, notFound };
    }
    // Both isolations give the new process a group of its own, led by itself.
    const { pid } = this.addProcess();
    this.spawnedPids.push(pid);
    return { pid };
  }

  /** A process that exists without drainit having spawned it (a grandchild, an orphan). */
  addProcess({ pgid, diesOn = [] }: { pgid?: number; diesOn?: number[] } = {}): FakeProcess {
    const pid = this.nextPid++;
    const proc: FakeProcess = {
      pid,
      pgid: pgid ?? pid,
      status: null,
      reaped: false,
      diesOn: new Set([SIGKILL, ...diesOn]),
      received: [],
    };
    this.processes.set(pid, proc);
    return proc;
  }

  process(pid: number): FakeProcess {
    const proc = this.processes.get(pid);
    if (!proc) throw new Error(`no fake process ${pid}`);
    return proc;
  }

  /** The process ends now; its status waits for reapOne(). */
  exit(pid: number, status: ExitStatus): void {
    const proc = this.process(pid);
    if (proc.status) return;
    proc.status = status;
    this.exitQueue.push({ pid, status });
  }

  /** The process moves to a new group, as setsid() or setpgid() would do. */
  moveToGroup(pid: number, pgid: number): void {
    this.process(pid).pgid = pgid;
  }

  reapOne(): Reaped | "none-ready" | "no-children" {
    const next = this.exitQueue.shift();
    if (next) {
      this.process(next.pid).reaped = true;
      return next;
    }
    return [...this.processes.values()].some((p) => !p.reaped) ? "none-ready" : "no-children";
  }

  kill(pid: number, signal: number): boolean {
    this.kills.push({ pid, signal });
    const targets = [...this.processes.values()].filter(
      (p) => !p.reaped && (pid < 0 ? p.pgid === -pid : p.pid === pid),
    );
    if (signal !== 0) {
      for (const target of targets) {
        if (target.status) continue;
        target.received.push(signal);
        if (target.diesOn.has(signal)) this.exit(target.pid, { signal });
      }
    }
    return targets.length > 0;
  }

  becomeSubreaper(): void {
    this.subreaperCalls += 1;
  }

  setParentDeathSignal(signal: number): void {
    this.parentDeathSignal = signal;
  }

  pid(): number {
    return this.ownPid;
  }

  /** stdin is no terminal here; test/unit/tty.test.ts gives the kernel one. */
  terminalOf(_fd: number): TerminalInfo | null {
    return null;
  }

  detachTerminal(_fd: number): void {
    throw new Error("no controlling terminal");
  }

  setForegroundGroup(_fd: number, _pgid: number): void {
    throw new Error("no terminal");
  }

  /** No netlink here: traffic watching falls back to /proc, as in a container that forbids it. */
  sockDiagDump(_request: Uint8Array): Uint8Array[] {
    throw new Error("sock_diag is not available in the fake kernel");
  }

  /** Every kill() with this signal (signal checks with 0 are left out by default). */
  killsOf(signal: number): KillCall[] {
    return this.kills.filter((k) => k.signal === signal);
  }

  /** Kills that delivered a real signal, leaving out the existence checks (signal 0). */
  get signalsSent(): KillCall[] {
    return this.kills.filter((k) => k.signal !== 0);
  }
}

interface FakeTimer {
  id: number;
  at: number;
  fire: () => void;
}

/** A clock that stands still until advance() moves it, firing due timers in order of their time. */
export class FakeClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly timers: FakeTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fire: () => void): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fire };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    const index = this.timers.findIndex((t) => t.id === handle.id);
    if (index >= 0) this.timers.splice(index, 1);
  }

  /** Moves time forward by `ms`, firing each timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.time = due.at;
      due.fire();
    }
    this.time = end;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

export interface LogRecord {
  level: LogLevelName;
  message: string;
  fields?: LogFields;
}

export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];
  error = this.at("error");
  warn = this.at("warn");
  info = this.at("info");
  debug = this.at("debug");
  trace = this.at("trace");

  enabled(): boolean {
    return true;
  }

  private at(level: LogLevelName) {
    return (message: string, fields?: LogFields): void => {
      this.records.push({ level, message, fields });
    };
  }

  ofLevel(level: LogLevelName): LogRecord[] {
    return this.records.filter((r) => r.level === level);
  }

  find(pattern: RegExp): LogRecord | undefined {
    return this.records.find((r) => pattern.test(r.message));
  }
}

export interface HttpCall {
  url: string;
  cancelled: boolean;
  /** The answer arrives, as the real HTTP hook delivers it: an event on a turn of its own. */
  resolve(outcome: HookOutcome): void;
}

/** Records what the supervisor asked of the world; HTTP hooks answer when the test resolves them. */
export class FakeEffects implements Effects {
  /** markDraining / cleanUp / exit(N), in the order they happened. */
  readonly calls: string[] = [];
  readonly httpCalls: HttpCall[] = [];
  /** Every phase the supervisor reported, in order. */
  readonly phases: Phase[] = [];
  exitCode: number | null = null;
  /** Clock time of exit(), when a clock was given: what the supervisor did, not what the test advanced. */
  exitedAt: number | null = null;

  constructor(private readonly clock?: Clock) {}

  /** What the cgroup says about an OOM kill when asked: none, unless a test replaces it. */
  outOfMemoryKill(): string | null {
    return null;
  }

  phaseChanged(phase: Phase): void {
    this.phases.push(phase);
  }

  markDraining(): void {
    this.calls.push("markDraining");
  }

  cleanUp(): void {
    this.calls.push("cleanUp");
  }

  callHttpHook(url: string, answered: (outcome: HookOutcome) => void): { cancel(): void } {
    const call: HttpCall = { url, cancelled: false, resolve: (outcome) => queueMicrotask(() => answered(outcome)) };
    this.httpCalls.push(call);
    return { cancel: () => (call.cancelled = true) };
  }

  /** An app whose ports never see traffic; tests of the adaptive drain script their own. */
  watchTraffic(_appPid: number): TrafficWatch {
    const since = this.clock?.now() ?? 0;
    return { sampleIdleMs: (now) => now - since, lastActivityAt: since };
  }

  exit(code: number): void {
    this.calls.push(`exit(${code})`);
    this.exitCode = code;
    this.exitedAt = this.clock?.now() ?? null;
  }
}

/** A Config as the supervisor sees it: no drain, group mode, TERM stops. */
export function baseConfig(overrides: Partial<Config> = {}): Config {
  return {
    command: ["app", "--serve"],
    singleChild: false,
    rewrites: new Map(),
    subreaper: false,
    remapExit: new Set(),
    pdeathsig: null,
    warnOnReap: false,
    verbosity: LogLevel.trace,
    logFormat: "text",
    stopSignals: new Set([SIGNALS.TERM!]),
    drainMs: 0,
    drainHook: null,
    hookTimeoutMs: 30_000,
    drainFile: null,
    health: null,
    healthUpstream: null,
    graceMs: null,
    budgetMs: null,
    ...overrides,
  };
}

/** A supervisor wired to fakes, with helpers to play the kernel's side. */
export class Rig {
  readonly kernel: FakeKernel;
  readonly clock = new FakeClock();
  readonly log = new RecordingLogger();
  readonly effects = new FakeEffects(this.clock);
  readonly config: Config;
  readonly supervisor: Supervisor;

  constructor(
    overrides: Partial<Config> = {},
    { ownPid = 1, launch, log }: { ownPid?: number; launch?: Launch; log?: Logger } = {},
  ) {
    this.kernel = new FakeKernel(ownPid);
    this.config = baseConfig(overrides);
    this.supervisor = new Supervisor({
      config: this.config,
      launch: launch ?? { argv: this.config.command, cwd: "/srv/app" },
      kernel: this.kernel,
      clock: this.clock,
      log: log ?? this.log,
      effects: this.effects,
    });
  }

  /** Starts the supervisor and returns the child's pid. */
  start(): number {
    this.supervisor.start();
    return this.supervisor.pid;
  }

  signal(name: string): void {
    this.supervisor.receiveSignal(SIGNALS[name]!);
  }

  /** The process ends and the kernel tells drainit with SIGCHLD. */
  exits(pid: number, status: ExitStatus): void {
    this.kernel.exit(pid, status);
    this.supervisor.receiveSignal(SIGCHLD);
  }

  /** The pid of the n-th hook spawned. */
  hookPid(n = 0): number {
    const pid = this.kernel.spawnedPids[n + 1];
    if (pid === undefined) throw new Error(`no hook #${n} was spawned`);
    return pid;
  }

  /** kill() calls that delivered a signal (existence checks left out), as "pid:SIGNAME". */
  sent(): string[] {
    const names = Object.fromEntries(Object.entries(SIGNALS).map(([k, v]) => [v, k]));
    return this.kernel.signalsSent.map((k) => `${k.pid}:${names[k.signal] ?? k.signal}`);
  }
}

/** Lets promise callbacks (an HTTP hook's answer) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
