// The one line drainit logs at exit: what happened after the stop signal, and when.
import type { LogFields } from "../log.ts";
import { signalName } from "../signals.ts";
import type { ExitStatus } from "../sys/kernel.ts";

export type HookOutcome =
  | { kind: "exited"; status: ExitStatus }
  | { kind: "http"; status: number }
  | { kind: "failed"; reason: string }
  | { kind: "timeout" };

export interface ChildExit {
  status: ExitStatus;
  at: number;
  /** The kernel's out-of-memory killer sent the SIGKILL that ended it. */
  oom?: boolean;
}

export interface Timeline {
  stopSignal: number | null;
  stopAt: number | null;
  hook: { outcome: HookOutcome; tookMs: number } | null;
  forwarded: { signal: number; at: number } | null;
  childExit: ChildExit | null;
  sigkillAt: number | null;
  exitCode: number;
  endAt: number;
}

function describeStatus(status: ExitStatus, oom = false): string {
  if (status.signal === undefined) return `exited(${status.code})`;
  return oom ? `killed(${signalName(status.signal)},oom)` : `killed(${signalName(status.signal)})`;
}

export function describeHookOutcome(outcome: HookOutcome): string {
  switch (outcome.kind) {
    case "exited":
      return describeStatus(outcome.status);
    case "http":
      return `http(${outcome.status})`;
    case "failed":
      return "failed";
    case "timeout":
      return "timeout";
  }
}

export function hookSucceeded(outcome: HookOutcome): boolean {
  if (outcome.kind === "exited") return outcome.status.code === 0;
  if (outcome.kind === "http") return outcome.status >= 200 && outcome.status < 300;
  return false;
}

/** Times are given in milliseconds since the stop signal (or since start when none came). */
export function timelineFields(t: Timeline, startedAt: number): LogFields {
  const origin = t.stopAt ?? startedAt;
  const since = (at: number) => Math.round(at - origin);
  return {
    stop: t.stopSignal === null ? "none" : signalName(t.stopSignal),
    hook: t.hook ? describeHookOutcome(t.hook.outcome) : undefined,
    hook_ms: t.hook ? Math.round(t.hook.tookMs) : undefined,
    forwarded: t.forwarded ? (t.forwarded.signal === 0 ? "dropped" : signalName(t.forwarded.signal)) : undefined,
    forwarded_ms: t.forwarded ? since(t.forwarded.at) : undefined,
    child: t.childExit ? describeStatus(t.childExit.status, t.childExit.oom) : "running",
    child_ms: t.childExit ? since(t.childExit.at) : undefined,
    sigkill_ms: t.sigkillAt === null ? undefined : since(t.sigkillAt),
    exit_code: t.exitCode,
    total_ms: since(t.endAt),
  };
}
