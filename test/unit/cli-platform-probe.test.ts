// --platform and --probe through the option table: what the command line and DRAINIT_* give.
import { describe, expect, it } from "vitest";
import { parseCommandLine, type Environment } from "../../src/cli/cli.ts";
import { UsageError } from "../../src/config.ts";
import { SIGNALS } from "../../src/signals.ts";

const parse = (args: string[], env: Environment = {}) => parseCommandLine(args, env, "/drainit");

function runOf(args: string[], env: Environment = {}) {
  const invocation = parse(args, env);
  if (invocation.kind !== "run") throw new Error(`not a run: ${invocation.kind}`);
  return invocation;
}

describe("--platform on the command line", () => {
  it("takes the platform's deadline as --budget and adds its stop signal", () => {
    const { config, platformNotes } = runOf(["--platform", "fly", "--drain", "10s", "app"]);
    expect(config.budgetMs).toBe(5_000);
    expect(config.stopSignals).toEqual(new Set([SIGNALS.TERM!, SIGNALS.INT!]));
    expect(platformNotes.map((n) => n.level)).toEqual(["info", "warn"]);
    expect(platformNotes[1]!.message).toContain("raise kill_timeout (fly.toml) above 10s");
  });

  it("reads DRAINIT_PLATFORM, and detects with auto", () => {
    expect(runOf(["app"], { DRAINIT_PLATFORM: "kubernetes" }).config.budgetMs).toBe(30_000);
    const detected = runOf(["app"], { DRAINIT_PLATFORM: "auto", FLY_APP_NAME: "web" });
    expect(detected.config.budgetMs).toBe(5_000);
    expect(detected.platformNotes[0]!.message).toMatch(/^--platform auto: FLY_APP_NAME is set: Fly\.io/);
    expect(detected.warnings).toEqual([]);
  });

  it("lets --budget and --stop-signal win, from the command line or their variables", () => {
    const { config } = runOf(["--platform", "fly", "--budget", "60s", "--stop-signal", "QUIT", "app"]);
    expect(config.budgetMs).toBe(60_000);
    expect(config.stopSignals).toEqual(new Set([SIGNALS.QUIT!]));
    const fromEnv = runOf(["--platform", "fly", "app"], { DRAINIT_BUDGET: "45s", DRAINIT_STOP_SIGNAL: "USR2" });
    expect(fromEnv.config.budgetMs).toBe(45_000);
    expect(fromEnv.config.stopSignals).toEqual(new Set([SIGNALS.USR2!]));
  });

  it("changes nothing without it", () => {
    const { config, platformNotes } = runOf(["app"], { FLY_APP_NAME: "web" });
    expect(config.budgetMs).toBeNull();
    expect(config.stopSignals).toEqual(new Set([SIGNALS.TERM!]));
    expect(platformNotes).toEqual([]);
  });

  it("refuses an unknown platform, naming the option or the variable", () => {
    expect(() => parse(["--platform", "mesos", "app"])).toThrow("--platform: 'mesos' is not one of auto, kubernetes");
    expect(() => parse(["app"], { DRAINIT_PLATFORM: "mesos" })).toThrow(UsageError);
    expect(() => parse(["app"], { DRAINIT_PLATFORM: "mesos" })).toThrow(/^DRAINIT_PLATFORM: 'mesos'/);
  });
});

describe("--probe through the option table", () => {
  it("is a probe wherever --probe stands among its options", () => {
    expect(parse(["--timeout", "1s", "--probe", "http://h/", "--header", "A: b"])).toEqual({
      kind: "probe",
      options: { target: "http://h/", expect: [], timeout: "1s", headers: ["A: b"] },
    });
  });

  it("reads no variable: an environment cannot turn drainit into a probe", () => {
    expect(parse(["app"], { DRAINIT_PROBE: "http://h/" }).kind).toBe("run");
  });

  it("refuses what does not go with it", () => {
    expect(() => parse(["--probe", "http://h/", "app"])).toThrow("--probe takes no command");
    expect(() => parse(["--drain", "5s", "--probe", "http://h/"])).toThrow("--probe takes no --drain");
    expect(() => parse(["--expect", "200", "app"])).toThrow("--expect needs --probe");
  });
});
