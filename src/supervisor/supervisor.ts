// The state machine at the heart of drainit: running → draining → stopping → finishing → exited.
// It is driven by events (a signal, a reaped child, a timer, a hook's answer) and acts only
// through the injected Kernel, Clock and Effects, so tests can drive it without a kernel.
import type { Config } from "../config.ts";
import { EXIT_INTERNAL_ERROR, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND } from "../exit-codes.ts";
import type { Logger } from "../log.ts";
import { SIGCHLD, SIGCONT, SIGKILL, SIGTERM, rewriteSignal, signalName } from "../signals.ts";
import { exitCodeOf, type Clock, type ExitStatus, type Kernel, type Reaped, type TimerHandle } from "../sys/kernel.ts";
import { DETACH_ECHO_WINDOW_MS, DetachEcho, planTerminal, type TerminalPlan } from "./terminal.ts";
import { describeHookOutcome, hookSucceeded, timelineFields, type HookOutcome } from "./timeline.ts";

/** What the supervisor asks of the world besides system calls. */
export interface Effects {
  /** Marks the instance as going away: drain file, health endpoint. */
  markDraining(): void;
  /** Undoes what start-up set up (drain file, health endpoint). Called once, before exit. */
  cleanUp(): void;
  /** POSTs to the hook URL. The promise never rejects; cancel() aborts the request. */
  callHttpHook(url: string): { outcome: Promise<HookOutcome>; cancel(): void };
  /** Starts watching the app's listening ports for traffic (for --drain-until-idle). */
  watchTraffic?(appPid: number): TrafficWatch;
  exit(code: number): void;
}

export interface Launch {
  /** The command as it is passed to the kernel (raw bytes when available). */
  argv: ReadonlyArray<string | Uint8Array>;
  env?: ReadonlyArray<string | Uint8Array>;
  /** Where hooks run: the directory drainit was started in (drainit itself moves to /). */
  cwd?: string;
  /** The descriptors from 3 up that drainit inherited: the child's, never a hook's. */
  fds?: ReadonlyArray<number>;
}

export interface SupervisorDeps {
  config: Config;
  launch: Launch;
  kernel: Kernel;
  clock: Clock;
  log: Logger;
  effects: Effects;
}

/** How long the app's ports have seen no traffic, sampled on demand. */
export interface TrafficWatch {
  sampleIdleMs(now: number): number;
  readonly lastActivityAt: number;
}

export type Phase = "idle" | "running" | "draining" | "stopping" | "finishing" | "exited";


/** How long leftovers of the child's group may take to exit when no --grace is set. */
export const DEFAULT_LEFTOVER_WAIT_MS = 2_000;
/** Reaping normally follows SIGCHLD; this timer catches a lost one and keeps the event loop alive. */
export const SAFETY_REAP_INTERVAL_MS = 1_000;
/** How often to look whether leftovers are gone while finishing. */
export const LEFTOVER_POLL_MS = 20;
/** How long a failing drainit waits for its child after passing SIGTERM on. */
export const ABORT_WAIT_MS = 10_000;
/** How often the adaptive drain looks at the app's traffic. */
export const TRAFFIC_POLL_MS = 200;
/** The latest the stop signal is forwarded before the --budget deadline, at the least. */
export const BUDGET_MARGIN_MS = 1_000;

type TimerName = "detach-echo" | "safety" | "drain" | "budget" | "hook" | "grace" | "leftovers" | "poll" | "abort" | "traffic";

interface HookRun {
  startedAt: number;
  /** Process group of a command hook, while it has not been reaped. */
  pid: number | null;
  /** The same group after the hook exited: what the hook left running is ended with the child's leftovers. */
  group: number | null;
  cancel: (() => void) | null;
  outcome: HookOutcome | null;
  tookMs: number;
}

export class Supervisor {
  private phase: Phase = "idle";
  private childPid = 0;
  private startedAt = 0;
  private childExit: { status: ExitStatus; at: number } | null = null;
  private stopSignal: number | null = null;
  private stopAt: number | null = null;
  private stopCount = 0;
  private drainElapsed = false;
  private budgetReached = false;
  private hook: HookRun | null = null;
  private forwarded: { signal: number; at: number } | null = null;
  private sigkillAt: number | null = null;
  private exitCodeOverride: number | null = null;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private readonly detachEcho = new DetachEcho();

  constructor(private readonly deps: SupervisorDeps) {}

  get state(): Phase {
    return this.phase;
  }

  get pid(): number {
    return this.childPid;
  }

  /** Spawns the child. On failure to execute it, exits 127 or 126 with one line. */
  start(): void {
    const { config, kernel, log, clock } = this.deps;
    this.startedAt = clock.now();
    if (config.subreaper || kernel.pid() !== 1) this.tryTo("become a child subreaper", () => kernel.becomeSubreaper());
    if (config.pdeathsig !== null) {
      const signal = config.pdeathsig;
      this.tryTo("set the parent-death signal", () => kernel.setParentDeathSignal(signal));
    }
    this.warnIfOverBudget();

    const terminal = this.prepareTerminal();
    const result = kernel.spawn({
      argv: this.deps.launch.argv,
      env: this.deps.launch.env,
      isolation: config.singleChild ? "group" : "session",
      terminal: terminal.kind === "hand-over" ? terminal.path : undefined,
      fds: this.deps.launch.fds,
    });
    if (result.errno !== undefined) {
      log.error(`cannot run '${config.command[0]}': ${result.reason}`);
      this.phase = "exited";
      this.deps.effects.cleanUp();
      this.deps.effects.exit(result.notFound ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
      return;
    }
    this.childPid = result.pid;
    this.phase = "running";
    log.debug("started child", { pid: result.pid, command: config.command.join(" ") });
    if (terminal.kind === "foreground") this.giveForeground(result.pid);
    this.armSafetyReap();
  }

  /**
   * Every signal drainit listens to arrives here, SIGCHLD included. `senderPid`, when known, is
   * the sending process as drainit's namespace sees it (0: the kernel or an outer namespace).
   */
  receiveSignal(signal: number, senderPid?: number): void {
    if (signal === SIGCHLD) {
      this.reapChildren();
      return;
    }
    if (this.phase === "idle" || this.phase === "exited") return;
    this.deps.log.debug("received signal", { signal: signalName(signal), from: senderPid });
    // A zombie stays a member of its process group until reaped, and kill(-group) walks every
    // member: under a storm of orphans and signals, forwarding would cost more with each exit.
    this.reapChildren();
    // (Reaping may have ended the run: the child's last leftover was among them.)
    if (this.state === "exited") return;
    if (this.detachEcho.absorbs(signal)) {
      this.deps.log.debug("not forwarded: sent by the kernel as drainit gave up the terminal", {
        signal: signalName(signal),
      });
      if (!this.detachEcho.pending) this.clearTimer("detach-echo");
      return;
    }
    const isStop = this.deps.config.stopSignals.has(signal);
    if (isStop && this.phase !== "finishing") this.receiveStopSignal(signal);
    else this.forwardSignal(signal);
  }

  /** drainit itself failed: pass SIGTERM on, wait for the child a while, exit 70. */
  abort(reason: string): void {
    this.deps.log.error(`internal error: ${reason}`);
    this.exitCodeOverride = EXIT_INTERNAL_ERROR;
    if (this.phase === "idle" || this.phase === "exited") {
      this.phase = "exited";
      this.deps.effects.exit(EXIT_INTERNAL_ERROR);
      return;
    }
    if (this.phase === "finishing") return;
    this.deliver(SIGTERM);
    this.setTimer("abort", ABORT_WAIT_MS, () => {
      this.killEverything("drainit is failing");
      this.finish();
    });
  }

  // --- the terminal ------------------------------------------------------

  /** Decides what to do with a terminal on stdin; in group mode gives it up so the child's session can take it. */
  private prepareTerminal(): TerminalPlan {
    const { kernel, config, log } = this.deps;
    const plan = planTerminal(kernel.terminalOf?.(0) ?? null, config.singleChild);
    if (plan.kind === "leave") log.debug(`stdin is a terminal, left as it is: ${plan.why}`);
    if (plan.kind !== "hand-over" || !kernel.detachTerminal) return plan;
    try {
      kernel.detachTerminal(0);
    } catch (error) {
      log.warn(`could not hand the terminal to the child: ${error instanceof Error ? error.message : String(error)}`);
      return { kind: "leave", why: "TIOCNOTTY failed" };
    }
    if (plan.echoExpected) {
      this.detachEcho.expect();
      this.setTimer("detach-echo", DETACH_ECHO_WINDOW_MS, () => this.detachEcho.forget());
    }
    log.debug("gave up the terminal for the child's session", { terminal: plan.path });
    return plan;
  }

  /** Single-child mode: the child's group takes the terminal, so Ctrl-C and Ctrl-Z reach it once, from the terminal. */
  private giveForeground(pid: number): void {
    const { kernel, log } = this.deps;
    if (!kernel.setForegroundGroup) return;
    try {
      kernel.setForegroundGroup(0, pid);
    } catch (error) {
      log.warn(`could not make the child the terminal's foreground: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    // Had the child touched the terminal before that, SIGTTIN or SIGTTOU stopped it: wake it up.
    kernel.kill(-pid, SIGCONT);
    log.debug("the child's group is the terminal's foreground group", { pgid: pid });
  }

  // --- the stop sequence -------------------------------------------------

  private receiveStopSignal(signal: number): void {
    this.stopCount += 1;
    if (this.stopCount === 1) {
      this.beginDrain(signal);
      return;
    }
    if (this.phase === "draining") {
      this.deps.log.info(`second ${signalName(signal)}: skipping the rest of the drain`);
    }
    this.forwardStop(signal);
  }

  private beginDrain(signal: number): void {
    const { config, clock, log } = this.deps;
    this.phase = "draining";
    this.stopSignal = signal;
    this.stopAt = clock.now();
    const budgetEnd = this.forwardDeadlineFromBudget();
    const drainMs = Math.min(config.drainMs, budgetEnd);
    if (config.drainMs > 0 || config.drainHook) {
      log.info(`${signalName(signal)} received: draining`, {
        drain_ms: drainMs,
        hook: config.drainHook ? "yes" : undefined,
      });
    }
    this.tryTo("mark draining", () => this.deps.effects.markDraining());
    this.startHook();
    if (config.adaptiveDrain) this.beginAdaptiveDrain(Math.min(config.adaptiveDrain.maxMs, budgetEnd));
    else if (drainMs > 0) this.setTimer("drain", drainMs, () => this.onDrainElapsed());
    else this.drainElapsed = true;
    if (Number.isFinite(budgetEnd)) this.setTimer("budget", budgetEnd, () => this.onBudgetReached());
    this.forwardWhenReady();
  }

  /** Milliseconds after the stop signal by which --budget wants it forwarded (Infinity without one). */
  private forwardDeadlineFromBudget(): number {
    const { budgetMs, graceMs } = this.deps.config;
    if (budgetMs === null) return Infinity;
    return Math.max(0, budgetMs - Math.max(graceMs ?? 0, BUDGET_MARGIN_MS));
  }

  private warnIfOverBudget(): void {
    const { budgetMs, drainMs, drainHook, hookTimeoutMs, graceMs, adaptiveDrain } = this.deps.config;
    if (budgetMs === null) return;
    const worstForward = Math.max(adaptiveDrain?.maxMs ?? drainMs, drainHook ? hookTimeoutMs : 0);
    const plan = worstForward + (graceMs ?? 0);
    if (plan <= budgetMs) return;
    this.deps.log.warn(
      `the stop plan (drain or hook timeout ${worstForward}ms + grace ${graceMs ?? 0}ms) exceeds --budget ${budgetMs}ms: ` +
        `the stop signal will be forwarded ${this.forwardDeadlineFromBudget()}ms after it arrives at the latest`,
    );
  }

  /** Ends the drain once the app's ports were idle long enough, between MIN and MAX. */
  private beginAdaptiveDrain(maxMs: number): void {
    const { config, clock, log, effects } = this.deps;
    const { minMs, idleMs } = config.adaptiveDrain!;
    let watch: TrafficWatch | null = null;
    try {
      watch = effects.watchTraffic?.(this.childPid) ?? null;
    } catch (error) {
      log.warn(`cannot watch the app's traffic: ${error instanceof Error ? error.message : String(error)}`);
    }
    const endDrain = (reason: string) => {
      this.clearTimer("traffic");
      const stoppedAt = watch ? Math.round(watch.lastActivityAt - this.stopAt!) : undefined;
      log.info(`drain ended: ${reason}`, { traffic_stopped_ms: stoppedAt, drain_ms: Math.round(clock.now() - this.stopAt!) });
      this.onDrainElapsed();
    };
    this.setTimer("drain", maxMs, () => endDrain("MAX reached"));
    if (!watch) return;
    const activeWatch = watch;
    const poll = () => {
      // Sampled on every turn, MIN or not: a connection that comes and goes must still count.
      const idle = activeWatch.sampleIdleMs(clock.now());
      if (clock.now() - this.stopAt! >= minMs && idle >= idleMs) {
        this.clearTimer("drain");
        endDrain(`no traffic for ${idleMs}ms`);
        return;
      }
      this.setTimer("traffic", TRAFFIC_POLL_MS, poll);
    };
    this.setTimer("traffic", TRAFFIC_POLL_MS, poll);
  }

  private onDrainElapsed(): void {
    this.drainElapsed = true;
    this.forwardWhenReady();
  }

  private onBudgetReached(): void {
    this.budgetReached = true;
    this.drainElapsed = true;
    if (this.phase === "draining" && this.hook && !this.hook.outcome) {
      this.deps.log.warn("--budget reached while the drain hook runs: forwarding now");
    }
    this.forwardWhenReady();
  }

  /** Forwards once the drain has elapsed and the hook is done (or the budget says not to wait). */
  private forwardWhenReady(): void {
    if (this.phase !== "draining" || !this.drainElapsed) return;
    const hookPending = this.hook !== null && this.hook.outcome === null;
    if (hookPending && !this.budgetReached) return;
    this.forwardStop(this.stopSignal!);
  }

  private forwardStop(signal: number): void {
    this.clearTimer("drain");
    this.clearTimer("traffic");
    this.clearTimer("budget");
    this.phase = "stopping";
    const sent = this.forwardSignal(signal);
    if (!this.forwarded) {
      this.forwarded = { signal: sent, at: this.deps.clock.now() };
      this.deps.log.debug("forwarded stop signal", { signal: signalName(sent) });
    }
    const { graceMs } = this.deps.config;
    if (graceMs !== null && !this.timers.has("grace")) {
      this.setTimer("grace", graceMs, () => this.killEverything(`still running ${graceMs}ms after the stop signal`));
    }
  }

  // --- the drain hook ----------------------------------------------------

  private startHook(): void {
    const { config, kernel, clock, effects } = this.deps;
    const hook = config.drainHook;
    if (!hook) return;
    const run: HookRun = { startedAt: clock.now(), pid: null, group: null, cancel: null, outcome: null, tookMs: 0 };
    this.hook = run;
    this.setTimer("hook", config.hookTimeoutMs, () => this.onHookTimeout());
    if (hook.kind === "command") {
      const result = kernel.spawn({
        argv: hook.argv,
        env: this.deps.launch.env,
        cwd: this.deps.launch.cwd,
        isolation: "group",
      });
      if (result.errno !== undefined) {
        this.settleHook({ kind: "failed", reason: `cannot run '${hook.argv[0]}': ${result.reason}` });
      } else {
        run.pid = result.pid;
        run.group = result.pid;
      }
    } else {
      const call = effects.callHttpHook(hook.url);
      run.cancel = call.cancel;
      void call.outcome.then((outcome) => this.settleHook(outcome));
    }
  }

  private onHookTimeout(): void {
    const run = this.hook;
    if (!run || run.outcome) return;
    if (run.pid !== null) this.deps.kernel.kill(-run.pid, SIGKILL);
    run.cancel?.();
    this.settleHook({ kind: "timeout" });
  }

  private settleHook(outcome: HookOutcome): void {
    const run = this.hook;
    if (!run || run.outcome) return;
    run.outcome = outcome;
    run.tookMs = this.deps.clock.now() - run.startedAt;
    this.clearTimer("hook");
    const fields = { result: describeHookOutcome(outcome), ms: Math.round(run.tookMs) };
    if (hookSucceeded(outcome)) this.deps.log.info("drain hook done", fields);
    else {
      const reason = outcome.kind === "failed" ? `: ${outcome.reason}` : "";
      this.deps.log.warn(`drain hook failed${reason}; going on`, fields);
    }
    this.forwardWhenReady();
  }

  // --- signals and processes ---------------------------------------------

  /** Forwards a signal through the rewrite table; returns what was sent (0: dropped). */
  private forwardSignal(signal: number): number {
    const sent = rewriteSignal(this.deps.config.rewrites, signal);
    if (sent === 0) {
      this.deps.log.debug("dropped signal", { signal: signalName(signal) });
      return 0;
    }
    this.deliver(sent);
    this.deps.log.trace("forwarded signal", { signal: signalName(sent), from: signalName(signal) });
    return sent;
  }

  /** To the child's process group, or the child alone with --single-child (or if it left its group). */
  private deliver(signal: number): void {
    const { kernel, config } = this.deps;
    if (!this.childPid || this.childExit) {
      if (!config.singleChild && this.childPid) kernel.kill(-this.childPid, signal);
      return;
    }
    if (config.singleChild || !kernel.kill(-this.childPid, signal)) kernel.kill(this.childPid, signal);
  }

  /** SIGKILL for the child's whole process group and the hook's. */
  private killEverything(why: string): void {
    const { kernel, log } = this.deps;
    log.warn(`${why}: sending SIGKILL to the process group`);
    this.sigkillAt ??= this.deps.clock.now();
    if (this.childPid) {
      kernel.kill(-this.childPid, SIGKILL);
      if (!this.childExit) kernel.kill(this.childPid, SIGKILL);
    }
    if (this.hook?.group) kernel.kill(-this.hook.group, SIGKILL);
  }

  /** Reaps until waitpid has nothing more: one SIGCHLD can stand for many exits. */
  private reapChildren(): void {
    const { kernel } = this.deps;
    for (;;) {
      const reaped = kernel.reapOne();
      if (reaped === "none-ready" || reaped === "no-children") break;
      this.onReaped(reaped);
    }
    if (this.phase === "finishing") this.finishIfNothingLeft();
  }

  private onReaped({ pid, status }: Reaped): void {
    if (pid === this.childPid && !this.childExit) {
      this.onChildExit(status);
      return;
    }
    if (this.hook && pid === this.hook.pid) {
      this.hook.pid = null;
      this.settleHook({ kind: "exited", status });
      return;
    }
    const fields = { pid, status: status.signal !== undefined ? signalName(status.signal) : status.code };
    if (this.deps.config.warnOnReap) this.deps.log.warn("reaped zombie", fields);
    else this.deps.log.trace("reaped zombie", fields);
  }

  private onChildExit(status: ExitStatus): void {
    this.childExit = { status, at: this.deps.clock.now() };
    this.deps.log.debug("child exited", { pid: this.childPid, code: exitCodeOf(status) });
    this.beginFinishing();
  }

  /** The child is gone: TERM what is left of its group (and a running hook), wait a bounded time. */
  private beginFinishing(): void {
    const { config, kernel, clock } = this.deps;
    if (this.phase === "draining") this.deps.log.info("child exited during the drain: not waiting any longer");
    this.phase = "finishing";
    for (const name of ["drain", "budget", "hook", "abort", "traffic"] as const) this.clearTimer(name);

    // Leftovers get what remains of the grace period (a moment at least, for those already
    // SIGKILLed to be reaped), the whole of it when nothing was forwarded, or a short default.
    const graceLeft =
      this.forwarded && config.graceMs !== null
        ? Math.max(LEFTOVER_POLL_MS * 5, this.forwarded.at + config.graceMs - clock.now())
        : null;
    this.clearTimer("grace");
    const waitMs = graceLeft ?? config.graceMs ?? DEFAULT_LEFTOVER_WAIT_MS;
    // An HTTP hook still under way has nobody left to drain for.
    if (this.hook && !this.hook.outcome) this.hook.cancel?.();

    if (!config.singleChild) kernel.kill(-this.childPid, SIGTERM);
    if (this.hook?.group) kernel.kill(-this.hook.group, SIGTERM);
    if (this.somethingLeft()) {
      this.deps.log.debug("waiting for what is left of the process group", { max_ms: waitMs });
      this.setTimer("leftovers", waitMs, () => {
        this.killEverything("leftovers still running");
        this.finish();
      });
      this.pollLeftovers();
    }
    this.finishIfNothingLeft();
  }

  private pollLeftovers(): void {
    this.setTimer("poll", LEFTOVER_POLL_MS, () => {
      this.reapChildren();
      if (this.phase === "finishing") this.pollLeftovers();
    });
  }

  private somethingLeft(): boolean {
    const { kernel, config } = this.deps;
    const groupLeft = !config.singleChild && kernel.kill(-this.childPid, 0);
    const hookLeft = this.hook?.group ? kernel.kill(-this.hook.group, 0) : false;
    return groupLeft || hookLeft;
  }

  private finishIfNothingLeft(): void {
    if (this.phase === "finishing" && !this.somethingLeft()) this.finish();
  }

  private finish(): void {
    if (this.phase === "exited") return;
    this.phase = "exited";
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
    const { config, clock, log, effects } = this.deps;
    let code = this.exitCodeOverride ?? (this.childExit ? exitCodeOf(this.childExit.status) : EXIT_INTERNAL_ERROR);
    if (this.exitCodeOverride === null && config.remapExit.has(code)) code = 0;
    this.tryTo("clean up", () => effects.cleanUp());
    const fields = timelineFields(
      {
        stopSignal: this.stopSignal,
        stopAt: this.stopAt,
        hook: this.hook?.outcome ? { outcome: this.hook.outcome, tookMs: this.hook.tookMs } : null,
        forwarded: this.forwarded,
        childExit: this.childExit,
        sigkillAt: this.sigkillAt,
        exitCode: code,
        endAt: clock.now(),
      },
      this.startedAt,
    );
    if (this.stopSignal !== null) log.info("timeline", fields);
    else log.debug("exiting", fields);
    effects.exit(code);
  }

  // --- timers and helpers --------------------------------------------------

  private armSafetyReap(): void {
    this.setTimer("safety", SAFETY_REAP_INTERVAL_MS, () => {
      this.reapChildren();
      if (this.phase !== "exited") this.armSafetyReap();
    });
  }

  private setTimer(name: TimerName, ms: number, fire: () => void): void {
    this.clearTimer(name);
    const handle = this.deps.clock.setTimer(ms, () => {
      if (this.timers.get(name) !== handle) return;
      this.timers.delete(name);
      fire();
    });
    this.timers.set(name, handle);
  }

  private clearTimer(name: TimerName): void {
    const handle = this.timers.get(name);
    if (handle === undefined) return;
    this.deps.clock.clearTimer(handle);
    this.timers.delete(name);
  }

  private tryTo(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.deps.log.warn(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
