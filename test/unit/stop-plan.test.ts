// The stop plan as a table: given the drain, hook, grace, budget and adaptive settings, when the
// stop signal is forwarded at the latest, how long the drain lasts, and what is said at start.
import { describe, expect, it } from "vitest";
import type { AdaptiveDrain } from "../../src/config.ts";
import { DEFAULT_LEFTOVER_WAIT_MS, leftoverWaitMs, planStop, type StopPlanSettings } from "../../src/supervisor/stop-plan.ts";

const hook = { kind: "command" as const, argv: ["notify"], text: "notify" };
const adaptive = (minMs: number, maxMs: number): AdaptiveDrain => ({ minMs, maxMs, idleMs: 500, ports: [] });
const settings = (s: Partial<StopPlanSettings>): StopPlanSettings => ({
  drainMs: 0,
  drainHook: null,
  hookTimeoutMs: 30_000,
  graceMs: null,
  budgetMs: null,
  adaptiveDrain: null,
  ...s,
});

describe("planStop", () => {
  const rows: [string, Partial<StopPlanSettings>, { deadline: number; drain: number; adaptiveMax: number | null; warns: boolean }][] = [
    ["nothing set", {}, { deadline: Infinity, drain: 0, adaptiveMax: null, warns: false }],
    ["a drain, no budget", { drainMs: 5_000 }, { deadline: Infinity, drain: 5_000, adaptiveMax: null, warns: false }],
    ["budget minus grace", { drainMs: 20_000, graceMs: 3_000, budgetMs: 10_000 }, { deadline: 7_000, drain: 7_000, adaptiveMax: null, warns: true }],
    ["one second kept before the budget", { drainMs: 20_000, graceMs: 200, budgetMs: 10_000 }, { deadline: 9_000, drain: 9_000, adaptiveMax: null, warns: true }],
    ["a drain that fits", { drainMs: 5_000, graceMs: 5_000, budgetMs: 10_000 }, { deadline: 5_000, drain: 5_000, adaptiveMax: null, warns: false }],
    ["the hook timeout counts", { drainMs: 1_000, drainHook: hook, hookTimeoutMs: 8_000, graceMs: 5_000, budgetMs: 10_000 }, { deadline: 5_000, drain: 1_000, adaptiveMax: null, warns: true }],
    ["a budget smaller than the grace", { drainMs: 1_000, graceMs: 9_000, budgetMs: 5_000 }, { deadline: 0, drain: 0, adaptiveMax: null, warns: true }],
    ["adaptive MAX cut by the budget", { drainMs: 1_000, adaptiveDrain: adaptive(1_000, 60_000), graceMs: 3_000, budgetMs: 10_000 }, { deadline: 7_000, drain: 1_000, adaptiveMax: 7_000, warns: true }],
    ["adaptive MAX within the budget", { drainMs: 1_000, adaptiveDrain: adaptive(1_000, 4_000), graceMs: 3_000, budgetMs: 10_000 }, { deadline: 7_000, drain: 1_000, adaptiveMax: 4_000, warns: false }],
    ["adaptive, no budget", { drainMs: 1_000, adaptiveDrain: adaptive(1_000, 15_000) }, { deadline: Infinity, drain: 1_000, adaptiveMax: 15_000, warns: false }],
  ];
  it.each(rows)("%s", (_what, input, expected) => {
    const plan = planStop(settings(input));
    expect({
      deadline: plan.forwardDeadlineMs,
      drain: plan.drainMs,
      adaptiveMax: plan.adaptiveMaxMs,
      warns: plan.overBudgetWarning !== null,
    }).toEqual(expected);
  });

  it("names the worst case, the grace, the budget and the forward deadline in its warning", () => {
    const plan = planStop(settings({ drainMs: 5_000, drainHook: hook, hookTimeoutMs: 8_000, graceMs: 5_000, budgetMs: 10_000 }));
    expect(plan.overBudgetWarning).toBe(
      "the stop plan (drain or hook timeout 8000ms + grace 5000ms) exceeds --budget 10000ms: " +
        "the stop signal will be forwarded 5000ms after it arrives at the latest",
    );
  });
});

describe("leftoverWaitMs", () => {
  const rows: [string, number | null, number | null, number, number][] = [
    ["no grace: the default", null, null, 0, DEFAULT_LEFTOVER_WAIT_MS],
    ["no grace, forwarded: the default", null, 1_000, 3_000, DEFAULT_LEFTOVER_WAIT_MS],
    ["grace, nothing forwarded: all of it", 4_000, null, 3_000, 4_000],
    ["grace, forwarded: what remains of it", 4_000, 1_000, 3_000, 2_000],
    ["grace run out: a moment", 1_000, 0, 1_000, 100],
  ];
  it.each(rows)("%s", (_what, graceMs, forwardedAt, now, expected) => {
    expect(leftoverWaitMs(graceMs, forwardedAt, now)).toBe(expected);
  });
});
