// The drain hook's life: started when the drain begins, bounded by --hook-timeout, settled once
// by whichever comes first (its exit as reaped, the HTTP answer as delivered, the timeout).
import type { DrainHook } from "../config.ts";
import type { Logger } from "../log.ts";
import { SIGKILL } from "../signals.ts";
import type { Clock, ExitStatus, Kernel } from "../sys/kernel.ts";
import { describeHookOutcome, hookSucceeded, type HookOutcome } from "./timeline.ts";
import type { Timers } from "./timers.ts";

export interface HookContext {
  kernel: Kernel;
  clock: Clock;
  log: Logger;
  timers: Timers;
  /** Environment and directory of a command hook: those drainit was started with. */
  env?: ReadonlyArray<string | Uint8Array>;
  cwd?: string;
  /** POSTs to the URL; the answer comes back later through `answered`, as an event. */
  callHttp(url: string, answered: (outcome: HookOutcome) => void): { cancel(): void };
}

export class DrainHookRun {
  private startedAt = 0;
  /** Process group of a command hook, while it has not been reaped. */
  private pid: number | null = null;
  /** The same group after the hook exited: what the hook left running is ended with the child's leftovers. */
  private groupId: number | null = null;
  private cancelCall: (() => void) | null = null;
  private settled: { outcome: HookOutcome; tookMs: number } | null = null;

  /**
   * `onSettled` runs once, when the outcome is known. `deliverAnswer` is how an HTTP answer
   * re-enters the machine: as an event, on a turn of its own, never from inside this call.
   */
  constructor(
    private readonly ctx: HookContext,
    private readonly onSettled: () => void,
    private readonly deliverAnswer: (outcome: HookOutcome) => void,
  ) {}

  /** Runs the command or makes the call; a command that cannot be run settles the hook at once. */
  start(hook: DrainHook, timeoutMs: number): void {
    const { ctx } = this;
    this.startedAt = ctx.clock.now();
    ctx.timers.set("hook", timeoutMs, () => this.timeOut());
    if (hook.kind === "http") {
      const call = ctx.callHttp(hook.url, this.deliverAnswer);
      this.cancelCall = () => call.cancel();
      return;
    }
    const result = ctx.kernel.spawn({ argv: hook.argv, env: ctx.env, cwd: ctx.cwd, isolation: "group" });
    if (result.errno !== undefined) {
      this.settle({ kind: "failed", reason: `cannot run '${hook.argv[0]}': ${result.reason}` });
    } else {
      this.pid = result.pid;
      this.groupId = result.pid;
    }
  }

  /** Started and not settled yet. */
  get pending(): boolean {
    return this.settled === null;
  }

  /** The outcome and how long it took, once settled. */
  get result(): { outcome: HookOutcome; tookMs: number } | null {
    return this.settled;
  }

  /** Whether a reaped pid was the command hook's; its exit settles the hook. */
  takeReaped(pid: number, status: ExitStatus): boolean {
    if (this.pid === null || pid !== this.pid) return false;
    this.pid = null;
    this.settle({ kind: "exited", status });
    return true;
  }

  /** The HTTP answer, delivered as an event; late answers (after a timeout) change nothing. */
  answer(outcome: HookOutcome): void {
    this.settle(outcome);
  }

  /** The child exited: an HTTP call under way has nobody left to drain for. */
  abandon(): void {
    if (this.pending) this.cancelCall?.();
  }

  /** Sends a signal to the command hook's group (and what it left), if there was one. */
  signalGroup(signal: number): void {
    if (this.groupId) this.ctx.kernel.kill(-this.groupId, signal);
  }

  /** Whether anything of the command hook's group is still there. */
  get groupLeft(): boolean {
    return this.groupId ? this.ctx.kernel.kill(-this.groupId, 0) : false;
  }

  private timeOut(): void {
    if (!this.pending) return;
    if (this.pid !== null) this.ctx.kernel.kill(-this.pid, SIGKILL);
    this.cancelCall?.();
    this.settle({ kind: "timeout" });
  }

  private settle(outcome: HookOutcome): void {
    if (!this.pending) return;
    const { clock, log, timers } = this.ctx;
    this.settled = { outcome, tookMs: clock.now() - this.startedAt };
    timers.clear("hook");
    const fields = { result: describeHookOutcome(outcome), ms: Math.round(this.settled.tookMs) };
    if (hookSucceeded(outcome)) log.info("drain hook done", fields);
    else {
      const reason = outcome.kind === "failed" ? `: ${outcome.reason}` : "";
      log.warn(`drain hook failed${reason}; going on`, fields);
    }
    this.onSettled();
  }
}
