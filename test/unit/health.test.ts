// Readiness apart from liveness: what each health route answers in each phase, and the phases
// the supervisor reports on the way (the endpoint learns them from that one hook).
import { describe, expect, it } from "vitest";
import {
  drainPlanOf,
  healthAnswer,
  needsUpstream,
  wantsVerbose,
  type HealthRoute,
  type HealthState,
  type UpstreamAnswer,
} from "../../src/drain/health.ts";
import type { Phase } from "../../src/supervisor/phases.ts";
import { baseConfig, Rig } from "./fakes.ts";

const plan = drainPlanOf(baseConfig({ drainMs: 5_000, graceMs: 10_000, budgetMs: 30_000 }));
const stateIn = (phase: Phase, stopAt: number | null = null): HealthState => ({ phase, stopAt, plan });
const statusOf = (route: HealthRoute, phase: Phase, upstream: UpstreamAnswer = null) =>
  healthAnswer(route, stateIn(phase), 0, upstream, false).status;

describe("health routes through the phases", () => {
  it.each<[Phase, number, number, number, string]>([
    // phase        readyz livez healthz body
    ["running", 200, 200, 200, "running\n"],
    ["draining", 503, 200, 503, "draining\n"],
    ["stopping", 503, 200, 503, "stopping\n"],
    ["finishing", 503, 503, 503, "stopping\n"],
    ["exited", 503, 503, 503, "stopping\n"],
  ])("%s: /readyz %i, /livez %i, /healthz %i, body %j", (phase, readyz, livez, healthz, body) => {
    expect(statusOf("readyz", phase)).toBe(readyz);
    expect(statusOf("livez", phase)).toBe(livez);
    expect(statusOf("healthz", phase)).toBe(healthz);
    expect(healthAnswer("livez", stateIn(phase), 0, null, false).body).toBe(body);
  });

  it("passes the app's own answer on for readiness while running, not for liveness", () => {
    expect(statusOf("readyz", "running", { status: 418 })).toBe(418);
    expect(statusOf("healthz", "running", { status: 503 })).toBe(503);
    expect(statusOf("readyz", "running", { unreachable: true })).toBe(503);
    expect(healthAnswer("readyz", stateIn("running"), 0, { unreachable: true }, false).body).toBe(
      "running: upstream unreachable\n",
    );
    expect(healthAnswer("readyz", stateIn("running"), 0, { status: 500 }, false).body).toBe(
      "running: upstream answered 500\n",
    );
    expect(needsUpstream("livez", "running")).toBe(false);
    expect(needsUpstream("readyz", "running")).toBe(true);
    expect(needsUpstream("healthz", "running")).toBe(true);
    // Once draining, the app's answer no longer matters: drainit says not ready by itself.
    expect(needsUpstream("readyz", "draining")).toBe(false);
  });

  it("gives the phase, the time since the stop signal and the drain plan as JSON when verbose", () => {
    const answer = healthAnswer("livez", stateIn("draining", 1_000), 3_500, null, true);
    expect(answer).toMatchObject({ status: 200, json: true });
    expect(JSON.parse(answer.body)).toEqual({
      phase: "draining",
      ready: false,
      live: true,
      since_stop_ms: 2_500,
      plan: { drain_ms: 5_000, drain_until_idle: null, hook: null, hook_timeout_ms: null, grace_ms: 10_000, budget_ms: 30_000 },
    });
    const running = JSON.parse(healthAnswer("readyz", stateIn("running"), 10, { status: 503 }, true).body);
    expect(running).toMatchObject({ phase: "running", ready: false, since_stop_ms: null, upstream: "upstream answered 503" });
  });

  it("shows an adaptive drain and a hook in the plan", () => {
    const adaptive = drainPlanOf(
      baseConfig({
        drainMs: 2_000,
        adaptiveDrain: { minMs: 2_000, maxMs: 60_000, idleMs: 1_000, ports: [] },
        drainHook: { kind: "http", url: "http://127.0.0.1:1/drain" },
        hookTimeoutMs: 4_000,
      }),
    );
    expect(adaptive).toMatchObject({
      drain_ms: 60_000,
      drain_until_idle: { min_ms: 2_000, max_ms: 60_000, idle_ms: 1_000 },
      hook: "http",
      hook_timeout_ms: 4_000,
    });
  });

  it.each([
    ["/readyz?verbose", null, true],
    ["/readyz?verbose=1", null, true],
    ["/readyz?verbose=0", null, false],
    ["/readyz", "application/json", true],
    ["/readyz", "text/html, application/json;q=0.9", true],
    ["/readyz", "*/*", false],
    ["/readyz", null, false],
  ])("%s with Accept %j is verbose: %s", (path, accept, verbose) => {
    expect(wantsVerbose(new URL(path, "http://h"), accept)).toBe(verbose);
  });
});

describe("the phases the supervisor reports", () => {
  it("running, draining, stopping, finishing, exited: each once, in order", () => {
    const rig = new Rig({ drainMs: 5_000 });
    const child = rig.start();
    expect(rig.effects.phases).toEqual(["running"]);
    rig.signal("TERM");
    expect(rig.effects.phases).toEqual(["running", "draining"]);
    rig.clock.advance(5_000);
    expect(rig.effects.phases).toEqual(["running", "draining", "stopping"]);
    rig.exits(child, { code: 0 });
    expect(rig.effects.phases).toEqual(["running", "draining", "stopping", "finishing", "exited"]);
  });

  it("goes from running to finishing when the child exits on its own", () => {
    const rig = new Rig();
    const child = rig.start();
    rig.exits(child, { code: 3 });
    expect(rig.effects.phases).toEqual(["running", "finishing", "exited"]);
  });

  it("reports exited alone when the command cannot be run", () => {
    const rig = new Rig();
    rig.kernel.failSpawn("app", "ENOENT");
    rig.start();
    expect(rig.effects.phases).toEqual(["exited"]);
  });
});
