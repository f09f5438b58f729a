// Platform-aware stop budgets: each platform's defaults, detection from its variables, what
// explicit options override, and the start-up warnings.
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/config.ts";
import {
  PLATFORMS,
  PLATFORM_NAMES,
  applyPlatform,
  choosePlatform,
  parsePlatformName,
  type ExplicitOptions,
  type PlatformName,
} from "../../src/cli/platforms.ts";
import { SIGNALS } from "../../src/signals.ts";
import { worstCaseStopMs } from "../../src/supervisor/stop-plan.ts";
import { baseConfig } from "./fakes.ts";

const TERM = SIGNALS.TERM!;
const INT = SIGNALS.INT!;
const NOTHING_EXPLICIT: ExplicitOptions = { budget: false, stopSignal: false };

describe("the platform table", () => {
  it.each<[PlatformName, "TERM" | "INT", number]>([
    ["kubernetes", "TERM", 30_000],
    ["ecs", "TERM", 30_000],
    ["fly", "INT", 5_000],
    ["nomad", "INT", 5_000],
    ["cloudrun", "TERM", 10_000],
    ["docker", "TERM", 10_000],
    ["heroku", "TERM", 30_000],
  ])("%s: %s, SIGKILL %i ms later", (name, signal, deadline) => {
    expect(PLATFORMS[name]).toMatchObject({ name, stopSignal: signal, killDeadlineMs: deadline });
  });

  it("caps ECS (Fargate) at 120 s, and says where every figure comes from", () => {
    expect(PLATFORMS.ecs.maxDeadlineMs).toBe(120_000);
    for (const name of PLATFORM_NAMES) expect(PLATFORMS[name].source).toMatch(/^https:\/\//);
  });

  it("knows Heroku signals every process of the dyno", () => {
    expect(PLATFORM_NAMES.filter((name) => PLATFORMS[name].signalsEveryProcess)).toEqual(["heroku"]);
  });
});

describe("choosing the platform", () => {
  it("takes a name as given, in any case", () => {
    expect(parsePlatformName("Fly", "--platform")).toBe("fly");
    expect(parsePlatformName(" auto ", "--platform")).toBe("auto");
    expect(choosePlatform("fly", {})).toEqual({ how: "named", platform: PLATFORMS.fly });
    expect(choosePlatform("kubernetes", {})).toEqual({ how: "named", platform: PLATFORMS.kubernetes });
  });

  it("nothing applies when --platform is not given", () => {
    expect(choosePlatform(null, { FLY_APP_NAME: "app" })).toBeNull();
  });

  it("refuses an unknown name with a usage error naming where it came from and listing the names", () => {
    expect(() => parsePlatformName("openshift", "--platform")).toThrow(UsageError);
    expect(() => parsePlatformName("openshift", "DRAINIT_PLATFORM")).toThrow(
      "DRAINIT_PLATFORM: 'openshift' is not one of auto, kubernetes, ecs, fly, nomad, cloudrun, docker, heroku",
    );
  });

  it.each<[Record<string, string>, PlatformName, string]>([
    [{ KUBERNETES_SERVICE_HOST: "10.0.0.1" }, "kubernetes", "KUBERNETES_SERVICE_HOST"],
    [{ ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x" }, "ecs", "ECS_CONTAINER_METADATA_URI_V4"],
    [{ FLY_APP_NAME: "app" }, "fly", "FLY_APP_NAME"],
    [{ NOMAD_ALLOC_ID: "abc" }, "nomad", "NOMAD_ALLOC_ID"],
    [{ K_SERVICE: "svc" }, "cloudrun", "K_SERVICE"],
    [{ DYNO: "web.1" }, "heroku", "DYNO"],
    // Knative on a Kubernetes cluster sets K_SERVICE too: the pod's grace period is what counts.
    [{ K_SERVICE: "svc", KUBERNETES_SERVICE_HOST: "10.0.0.1" }, "kubernetes", "KUBERNETES_SERVICE_HOST"],
  ])("auto detects %j as %s", (env, name, variable) => {
    expect(choosePlatform("auto", env)).toEqual({ how: "detected", platform: PLATFORMS[name], variable });
  });

  it("auto finds nothing in a plain environment (Docker sets no variable), or in empty variables", () => {
    expect(choosePlatform("auto", { PATH: "/bin" })).toEqual({ how: "none-detected" });
    expect(choosePlatform("auto", { FLY_APP_NAME: "" })).toEqual({ how: "none-detected" });
  });
});

describe("applying the platform's defaults", () => {
  it("takes the deadline as --budget and adds the stop signal to TERM", () => {
    const { config, notes } = applyPlatform(baseConfig(), choosePlatform("fly", {}), NOTHING_EXPLICIT);
    expect(config.budgetMs).toBe(5_000);
    expect([...config.stopSignals].sort()).toEqual([INT, TERM].sort());
    expect(notes).toEqual([
      { level: "info", message: "--platform fly: Fly.io; stop signals TERM,INT, budget 5s (Fly.io's default)" },
    ]);
  });

  it("logs what auto found and chose", () => {
    const { notes } = applyPlatform(baseConfig(), choosePlatform("auto", { FLY_APP_NAME: "app" }), NOTHING_EXPLICIT);
    expect(notes[0]).toEqual({
      level: "info",
      message: "--platform auto: FLY_APP_NAME is set: Fly.io; stop signals TERM,INT, budget 5s (Fly.io's default)",
    });
    const none = applyPlatform(baseConfig({ budgetMs: null }), choosePlatform("auto", {}), NOTHING_EXPLICIT);
    expect(none.config.budgetMs).toBeNull();
    expect(none.notes).toEqual([{ level: "info", message: expect.stringMatching(/^--platform auto: no platform detected/) }]);
  });

  it("lets an explicit --budget and --stop-signal win", () => {
    const explicit = baseConfig({ budgetMs: 60_000, stopSignals: new Set([SIGNALS.QUIT!]) });
    const { config, notes } = applyPlatform(explicit, choosePlatform("fly", {}), { budget: true, stopSignal: true });
    expect(config.budgetMs).toBe(60_000);
    expect([...config.stopSignals]).toEqual([SIGNALS.QUIT!]);
    expect(notes[0]!.message).toContain("budget 60s (--budget)");
  });

  it("changes nothing without a platform", () => {
    const before = baseConfig({ drainMs: 10_000 });
    expect(applyPlatform(before, null, NOTHING_EXPLICIT)).toEqual({ config: before, notes: [] });
  });

  it("warns when the drain cannot fit, naming the setting to change", () => {
    const { notes } = applyPlatform(baseConfig({ drainMs: 10_000 }), choosePlatform("fly", {}), NOTHING_EXPLICIT);
    expect(notes.filter((n) => n.level === "warn")).toEqual([
      {
        level: "warn",
        message: "the stop plan (10s) does not fit Fly.io's kill deadline of 5s: raise kill_timeout (fly.toml) above 10s, or shorten the drain",
      },
    ]);
  });

  it("counts the hook timeout and the grace period in the plan", () => {
    const config = baseConfig({
      drainMs: 5_000,
      drainHook: { kind: "http", url: "http://127.0.0.1/drain" },
      hookTimeoutMs: 20_000,
      graceMs: 15_000,
    });
    expect(worstCaseStopMs(config)).toBe(35_000);
    const { notes } = applyPlatform(config, choosePlatform("kubernetes", {}), NOTHING_EXPLICIT);
    expect(notes.at(-1)!.message).toBe(
      "the stop plan (35s) does not fit Kubernetes's kill deadline of 30s: raise terminationGracePeriodSeconds (pod spec) above 35s, or shorten the drain",
    );
  });

  it("says a fixed deadline cannot be raised", () => {
    const { notes } = applyPlatform(baseConfig({ drainMs: 15_000 }), choosePlatform("cloudrun", {}), NOTHING_EXPLICIT);
    expect(notes.at(-1)!.message).toBe(
      "the stop plan (15s) does not fit Cloud Run's kill deadline of 10s: Cloud Run's deadline cannot be raised: shorten the drain",
    );
  });

  it("warns about a --budget above the platform's maximum", () => {
    const { notes } = applyPlatform(baseConfig({ budgetMs: 300_000 }), choosePlatform("ecs", {}), {
      budget: true,
      stopSignal: false,
    });
    expect(notes.some((n) => n.level === "warn" && n.message.startsWith("--budget 300s is more than Amazon ECS allows (120s)"))).toBe(true);
  });

  it("stays quiet when the plan fits", () => {
    const { notes } = applyPlatform(baseConfig({ drainMs: 5_000, graceMs: 10_000 }), choosePlatform("kubernetes", {}), NOTHING_EXPLICIT);
    expect(notes.filter((n) => n.level === "warn")).toEqual([]);
  });

  it("warns on Heroku that drainit cannot hold the app's SIGTERM back", () => {
    const { notes } = applyPlatform(baseConfig(), choosePlatform("auto", { DYNO: "web.1" }), NOTHING_EXPLICIT);
    expect(notes.filter((n) => n.level === "warn").map((n) => n.message)).toEqual([
      expect.stringMatching(/^Heroku sends SIGTERM to every process of the container at once, the app included: drainit cannot hold it back/),
    ]);
  });
});
