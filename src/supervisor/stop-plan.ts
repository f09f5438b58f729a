// The stop plan as arithmetic (pure): when the stop signal is forwarded at the latest, how long
// the drain lasts, what --budget says about the plan, and how long leftovers may take.
import type { Config } from "../config.ts";

/** The latest the stop signal is forwarded before the --budget deadline, at the least. */
const BUDGET_MARGIN_MS = 1_000;
/** How long leftovers of the child's group may take to exit when no --grace is set. */
export const DEFAULT_LEFTOVER_WAIT_MS = 2_000;
/** How often to look whether leftovers are gone while finishing. */
export const LEFTOVER_POLL_MS = 20;
/** What leftovers get at the least once the grace period has run out: time for those SIGKILLed to be reaped. */
const LEFTOVER_MOMENT_MS = LEFTOVER_POLL_MS * 5;

export type StopPlanSettings = Pick<
  Config,
  "drainMs" | "drainHook" | "hookTimeoutMs" | "graceMs" | "budgetMs" | "adaptiveDrain"
>;

export interface StopPlan {
  /** Milliseconds after the stop signal by which --budget wants it forwarded (Infinity without one). */
  forwardDeadlineMs: number;
  /** The fixed drain, cut short by the budget. */
  drainMs: number;
  /** The adaptive drain's MAX, cut short by the budget; null without --drain-until-idle. */
  adaptiveMaxMs: number | null;
  /** Said at start when the worst case (drain or hook timeout, then grace) exceeds the budget. */
  overBudgetWarning: string | null;
}

/** The latest the stop signal is forwarded when nothing cuts the drain short: drain or hook timeout. */
function worstForwardMs({ drainMs, drainHook, hookTimeoutMs, adaptiveDrain }: StopPlanSettings): number {
  return Math.max(adaptiveDrain?.maxMs ?? drainMs, drainHook ? hookTimeoutMs : 0);
}

/** How long the stop plan may take, at worst, from the stop signal to SIGKILL by drainit. */
export function worstCaseStopMs(settings: StopPlanSettings): number {
  return worstForwardMs(settings) + (settings.graceMs ?? 0);
}

export function planStop(settings: StopPlanSettings): StopPlan {
  const { drainMs, graceMs, budgetMs, adaptiveDrain } = settings;
  // The app gets its grace (one second at the least) before the platform's kill.
  const forwardDeadlineMs = budgetMs === null ? Infinity : Math.max(0, budgetMs - Math.max(graceMs ?? 0, BUDGET_MARGIN_MS));
  const worstForward = worstForwardMs(settings);
  const overBudget = budgetMs !== null && worstCaseStopMs(settings) > budgetMs;
  return {
    forwardDeadlineMs,
    drainMs: Math.min(drainMs, forwardDeadlineMs),
    adaptiveMaxMs: adaptiveDrain ? Math.min(adaptiveDrain.maxMs, forwardDeadlineMs) : null,
    overBudgetWarning: overBudget
      ? `the stop plan (drain or hook timeout ${worstForward}ms + grace ${graceMs ?? 0}ms) exceeds --budget ${budgetMs}ms: ` +
        `the stop signal will be forwarded ${forwardDeadlineMs}ms after it arrives at the latest`
      : null,
  };
}

/**
 * How long what is left of the child's group may take once the child exited: what remains of the
 * grace period (a moment at least), the whole of it when nothing was forwarded, or a default.
 */
export function leftoverWaitMs(graceMs: number | null, forwardedAt: number | null, now: number): number {
  if (graceMs === null) return DEFAULT_LEFTOVER_WAIT_MS;
  if (forwardedAt === null) return graceMs;
  return Math.max(LEFTOVER_MOMENT_MS, forwardedAt + graceMs - now);
}
