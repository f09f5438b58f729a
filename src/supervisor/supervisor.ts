// The state machine at the heart of drainit: running → draining → stopping → finishing → exited.
// It is driven by events (a signal, a reaped child, a timer, the HTTP hook's answer) and acts only
// through the injected Kernel, Clock and Effects, so tests can drive it without a kernel.
// Its helpers each keep one concern: the stop plan's arithmetic (stop-plan.ts), the hook's life
// (drain-hook.ts), the adaptive drain's poll (adaptive-drain.ts), the terminal (terminal.ts), the
// exit line (timeline.ts).
import type { Config, DrainHook } from "../config.ts";
import { EXIT_INTERNAL_ERROR, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND } from "../exit-codes.ts";
import { describeError, type Logger } from "../log.ts";
import { SIGCHLD, SIGCONT, SIGKILL, SIGTERM, rewriteSignal, signalName } from "../signals.ts";
import { exitCodeOf, type Clock, type ExitStatus, type Kernel, type Reaped } from "../sys/kernel.ts";
import { startAdaptiveDrain, type TrafficWatch } from "./adaptive-drain.ts";
import { DrainHookRun } from "./drain-hook.ts";
import { canMove, type Phase } from "./phases.ts";
import { LEFTOVER_POLL_MS, leftoverWaitMs, planStop, type StopPlan } from "./stop-plan.ts";
import { DETACH_ECHO_WINDOW_MS, DetachEcho, planTerminal, type TerminalPlan } from "./terminal.ts";
import { timelineFields, type ChildExit, type HookOutcome } from "./timeline.ts";
import { Timers } from "./timers.ts";

/** What the supervisor asks of the world besides system calls. */
export interface Effects {
  /** Marks the instance as going away: the drain file. */
  markDraining(): void;
  /** The phase changed (the health endpoint answers by it). Called on every change, in order. */
  phaseChanged(phase: Phase): void;
  /** Undoes what start-up set up (drain file, health endpoint). Called once, before exit. */
  cleanUp(): void;
  /**
   * POSTs to the hook URL. `answered` gets the outcome once, later, from a turn of its own (a
   * failure is an outcome too); cancel() aborts the request.
   */
  callHttpHook(url: string, answered: (outcome: HookOutcome) => void): { cancel(): void };
  /** Starts watching the app's listening ports for traffic (for --drain-until-idle); throws when it cannot. */
  watchTraffic(appPid: number): TrafficWatch;
  /**
   * Asked when the child died of a SIGKILL drainit did not send: the line naming the out-of-memory
   * killer when it killed in drainit's cgroup since start, null otherwise.
   */
  outOfMemoryKill(): string | null;
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

/** What moves the machine from outside; timers are the third kind, armed by the machine itself. */
type SupervisorEvent =
  /** A signal drainit received, SIGCHLD included (then: reap). */
  | { kind: "signal"; signal: number; senderPid?: number }
  /** The HTTP hook's answer (or its failure). */
  | { kind: "hook-answered"; outcome: HookOutcome };

/** Reaping normally follows SIGCHLD; this timer catches a lost one and keeps the event loop alive. */
export const SAFETY_REAP_INTERVAL_MS = 1_000;
/** How long a failing drainit waits for its child after passing SIGTERM on. */
export const ABORT_WAIT_MS = 10_000;

export class Supervisor {
  private phase: Phase = "idle";
  private childPid = 0;
  private startedAt = 0;
  private childExit: ChildExit | null = null;
  private readonly plan: StopPlan;
  private stopSignal: number | null = null;
  private stopAt: number | null = null;
  private stopCount = 0;
  private drainElapsed = false;
  private budgetReached = false;
  private hook: DrainHookRun | null = null;
  private forwarded: { signal: number; at: number } | null = null;
  private sigkillAt: number | null = null;
  private exitCodeOverride: number | null = null;
  private readonly timers: Timers;
  private readonly detachEcho = new DetachEcho();

  constructor(private readonly deps: SupervisorDeps) {
    this.timers = new Timers(deps.clock);
    this.plan = planStop(deps.config);
  }

  get state(): Phase {
    return this.phase;
  }

  get pid(): number {
    return this.childPid;
  }

  /** The one place the phase changes; whoever watches it (the health endpoint) hears of each change. */
  private enter(next: Phase): void {
    if (!canMove(this.phase, next)) throw new Error(`no move from ${this.phase} to ${next}`);
    this.phase = next;
    this.tryTo("report the phase", () => this.deps.effects.phaseChanged(next));
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
    if (this.plan.overBudgetWarning) log.warn(this.plan.overBudgetWarning);

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
      this.enter("exited");
      this.deps.effects.cleanUp();
      this.deps.effects.exit(result.notFound ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
      return;
    }
    this.childPid = result.pid;
    this.enter("running");
    log.debug("started child", { pid: result.pid, command: config.command.join(" ") });
    if (terminal.kind === "foreground") this.giveForeground(result.pid);
    this.armSafetyReap();
  }

  /**
   * Every signal drainit listens to arrives here, SIGCHLD included. `senderPid`, when known, is
   * the sending process as drainit's namespace sees it (0: the kernel or an outer namespace).
   */
  receiveSignal(signal: number, senderPid?: number): void {
    this.handle({ kind: "signal", signal, senderPid });
  }

  /** drainit itself failed: pass SIGTERM on, wait for the child a while, exit 70. */
  abort(reason: string): void {
    this.deps.log.error(`internal error: ${reason}`);
    this.exitCodeOverride = EXIT_INTERNAL_ERROR;
    if (this.phase === "idle" || this.phase === "exited") {
      if (this.phase !== "exited") this.enter("exited");
      this.deps.effects.exit(EXIT_INTERNAL_ERROR);
      return;
    }
    if (this.phase === "finishing") return;
    this.deliver(SIGTERM);
    this.timers.set("abort", ABORT_WAIT_MS, () => {
      this.killEverything("drainit is failing");
      this.finish();
    });
  }

  private handle(event: SupervisorEvent): void {
    switch (event.kind) {
      case "signal":
        this.onSignal(event.signal, event.senderPid);
        return;
      case "hook-answered":
        // An answer after the run ended, or after the hook timed out, changes nothing.
        if (this.phase !== "exited") this.hook?.answer(event.outcome);
        return;
    }
  }

  private onSignal(signal: number, senderPid: number | undefined): void {
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
      if (!this.detachEcho.pending) this.timers.clear("detach-echo");
      return;
    }
    const isStop = this.deps.config.stopSignals.has(signal);
    if (isStop && this.phase !== "finishing") this.receiveStopSignal(signal);
    else this.forwardSignal(signal);
  }

  // --- the terminal ------------------------------------------------------

  /** Decides what to do with a terminal on stdin; in group mode gives it up so the child's session can take it. */
  private prepareTerminal(): TerminalPlan {
    const { kernel, config, log } = this.deps;
    const plan = planTerminal(kernel.terminalOf(0), config.singleChild);
    if (plan.kind === "leave") log.debug(`stdin is a terminal, left as it is: ${plan.why}`);
    if (plan.kind !== "hand-over") return plan;
    if (!this.tryTo("hand the terminal to the child", () => kernel.detachTerminal(0))) {
      return { kind: "leave", why: "TIOCNOTTY failed" };
    }
    if (plan.echoExpected) {
      this.detachEcho.expect();
      this.timers.set("detach-echo", DETACH_ECHO_WINDOW_MS, () => this.detachEcho.forget());
    }
    log.debug("gave up the terminal for the child's session", { terminal: plan.path });
    return plan;
  }

  /** Single-child mode: the child's group takes the terminal, so Ctrl-C and Ctrl-Z reach it once, from the terminal. */
  private giveForeground(pid: number): void {
    const { kernel, log } = this.deps;
    if (!this.tryTo("make the child the terminal's foreground", () => kernel.setForegroundGroup(0, pid))) return;
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
    const { config, clock, log, effects } = this.deps;
    this.enter("draining");
    this.stopSignal = signal;
    this.stopAt = clock.now();
    if (config.drainMs > 0 || config.drainHook) {
      log.info(`${signalName(signal)} received: draining`, {
        drain_ms: this.plan.drainMs,
        hook: config.drainHook ? "yes" : undefined,
      });
    }
    this.tryTo("mark draining", () => effects.markDraining());
    if (config.drainHook) this.startHook(config.drainHook);
    this.startDrainWait(this.stopAt);
    const { forwardDeadlineMs } = this.plan;
    if (Number.isFinite(forwardDeadlineMs)) this.timers.set("budget", forwardDeadlineMs, () => this.onBudgetReached());
    this.forwardWhenReady();
  }

  private startHook(hook: DrainHook): void {
    const { config, kernel, clock, log, effects, launch } = this.deps;
    const context = { kernel, clock, log, timers: this.timers, env: launch.env, cwd: launch.cwd };
    this.hook = new DrainHookRun(
      { ...context, callHttp: (url, answered) => effects.callHttpHook(url, answered) },
      () => this.forwardWhenReady(),
      (outcome) => this.handle({ kind: "hook-answered", outcome }),
    );
    this.hook.start(hook, config.hookTimeoutMs);
  }

  /** The fixed drain's timer, or the adaptive drain's poll; with neither, the drain is over at once. */
  private startDrainWait(stopAt: number): void {
    const { config, clock, log, effects } = this.deps;
    const { drainMs, adaptiveMaxMs } = this.plan;
    if (config.adaptiveDrain && adaptiveMaxMs !== null) {
      const context = { clock, log, timers: this.timers, watchTraffic: (pid: number) => effects.watchTraffic(pid) };
      startAdaptiveDrain(context, config.adaptiveDrain, this.childPid, stopAt, adaptiveMaxMs, () => this.onDrainElapsed());
    } else if (drainMs > 0) this.timers.set("drain", drainMs, () => this.onDrainElapsed());
    else this.drainElapsed = true;
  }

  private onDrainElapsed(): void {
    this.drainElapsed = true;
    this.forwardWhenReady();
  }

  private onBudgetReached(): void {
    this.budgetReached = true;
    this.drainElapsed = true;
    if (this.phase === "draining" && this.hook?.pending) {
      this.deps.log.warn("--budget reached while the drain hook runs: forwarding now");
    }
    this.forwardWhenReady();
  }

  /** Forwards once the drain has elapsed and the hook is done (or the budget says not to wait). */
  private forwardWhenReady(): void {
    if (this.phase !== "draining" || !this.drainElapsed) return;
    if (this.hook?.pending && !this.budgetReached) return;
    this.forwardStop(this.stopSignal!);
  }

  private forwardStop(signal: number): void {
    this.timers.clear("drain", "traffic", "budget");
    this.enter("stopping");
    const sent = this.forwardSignal(signal);
    if (!this.forwarded) {
      this.forwarded = { signal: sent, at: this.deps.clock.now() };
      this.deps.log.debug("forwarded stop signal", { signal: signalName(sent) });
    }
    const { graceMs } = this.deps.config;
    if (graceMs !== null && !this.timers.has("grace")) {
      this.timers.set("grace", graceMs, () => this.killEverything(`still running ${graceMs}ms after the stop signal`));
    }
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
    this.hook?.signalGroup(SIGKILL);
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
    if (this.hook?.takeReaped(pid, status)) return;
    const fields = { pid, status: status.signal !== undefined ? signalName(status.signal) : status.code };
    if (this.deps.config.warnOnReap) this.deps.log.warn("reaped zombie", fields);
    else this.deps.log.trace("reaped zombie", fields);
  }

  private onChildExit(status: ExitStatus): void {
    this.childExit = { status, at: this.deps.clock.now() };
    this.deps.log.debug("child exited", { pid: this.childPid, code: exitCodeOf(status) });
    if (status.signal === SIGKILL && this.sigkillAt === null) this.nameOutOfMemoryKill();
    this.beginFinishing();
  }

  /** A SIGKILL nobody here sent: the kernel's OOM killer is the usual sender, and worth naming. */
  private nameOutOfMemoryKill(): void {
    let message: string | null = null;
    if (!this.tryTo("read the cgroup's out-of-memory kills", () => (message = this.deps.effects.outOfMemoryKill()))) return;
    if (message === null || !this.childExit) return;
    this.childExit.oom = true;
    this.deps.log.warn(message);
  }

  /** The child is gone: TERM what is left of its group (and a running hook), wait a bounded time. */
  private beginFinishing(): void {
    const { config, kernel, clock } = this.deps;
    if (this.phase === "draining") this.deps.log.info("child exited during the drain: not waiting any longer");
    this.enter("finishing");
    this.timers.clear("drain", "budget", "hook", "abort", "traffic", "grace");
    const waitMs = leftoverWaitMs(config.graceMs, this.forwarded?.at ?? null, clock.now());
    this.hook?.abandon();

    if (!config.singleChild) kernel.kill(-this.childPid, SIGTERM);
    this.hook?.signalGroup(SIGTERM);
    if (this.somethingLeft()) {
      this.deps.log.debug("waiting for what is left of the process group", { max_ms: waitMs });
      this.timers.set("leftovers", waitMs, () => {
        this.killEverything("leftovers still running");
        this.finish();
      });
      this.pollLeftovers();
    }
    this.finishIfNothingLeft();
  }

  private pollLeftovers(): void {
    this.timers.set("poll", LEFTOVER_POLL_MS, () => {
      this.reapChildren();
      if (this.phase === "finishing") this.pollLeftovers();
    });
  }

  private somethingLeft(): boolean {
    const { kernel, config } = this.deps;
    const groupLeft = !config.singleChild && kernel.kill(-this.childPid, 0);
    return groupLeft || (this.hook?.groupLeft ?? false);
  }

  private finishIfNothingLeft(): void {
    if (this.phase === "finishing" && !this.somethingLeft()) this.finish();
  }

  private finish(): void {
    if (this.phase === "exited") return;
    this.enter("exited");
    this.timers.clearAll();
    const { config, clock, log, effects } = this.deps;
    let code = this.exitCodeOverride ?? (this.childExit ? exitCodeOf(this.childExit.status) : EXIT_INTERNAL_ERROR);
    if (this.exitCodeOverride === null && config.remapExit.has(code)) code = 0;
    this.tryTo("clean up", () => effects.cleanUp());
    const fields = timelineFields(
      {
        stopSignal: this.stopSignal,
        stopAt: this.stopAt,
        hook: this.hook?.result ?? null,
        forwarded: this.forwarded,
        childExit: this.childExit,
        sigkillAt: this.sigkillAt,
        exitCode: code,
        endAt: clock.now(),
      },
      this.startedAt,
    );
    // An out-of-memory kill is worth the whole timeline at the default level, stop signal or not.
    if (this.stopSignal !== null || this.childExit?.oom) log.info("timeline", fields);
    else log.debug("exiting", fields);
    effects.exit(code);
  }

  // --- helpers -----------------------------------------------------------

  private armSafetyReap(): void {
    this.timers.set("safety", SAFETY_REAP_INTERVAL_MS, () => {
      this.reapChildren();
      if (this.phase !== "exited") this.armSafetyReap();
    });
  }

  /** Runs an action whose failure is worth a warning, not the end of drainit; false when it failed. */
  private tryTo(what: string, action: () => void): boolean {
    try {
      action();
      return true;
    } catch (error) {
      this.deps.log.warn(`could not ${what}: ${describeError(error)}`);
      return false;
    }
  }
}
