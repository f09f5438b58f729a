// --platform through the binary, drainit as PID 1: the start-up lines, the platform's stop signal
// starting the drain, its deadline bounding it.
import { describe, expect, it } from "vitest";
import { trackedRuns } from "./harness.ts";
import { SIGNAL_RECORDER, signalAt, textTimeline, waitForEvent } from "./drain-support.ts";

const start = trackedRuns();
const PATH = process.env.PATH ?? "/usr/bin:/bin";

describe("--platform", () => {
  it("fly with --drain 10s: says the plan cannot fit and which setting to raise; the drain ends by the deadline", async () => {
    const run = start(["--platform", "fly", "--drain", "10s", "--", ...SIGNAL_RECORDER, "--exit-on", "SIGINT"]);
    await waitForEvent(run, "ready");
    expect(run.stderr).toContain("drainit: --platform fly: Fly.io; stop signals TERM,INT, budget 5s (Fly.io's default)\n");
    expect(run.stderr).toContain(
      "drainit: the stop plan (10s) does not fit Fly.io's kill deadline of 5s: raise kill_timeout (fly.toml) above 10s, or shorten the drain\n",
    );
    const sentAt = await signalAt(run, "SIGINT");
    const forwarded = await waitForEvent(run, "signal", "SIGINT");
    // The 5 s budget leaves the app at least 1 s: INT is forwarded 4 s after it came, not 10 s.
    expect(forwarded.at! - sentAt).toBeGreaterThanOrEqual(3_900);
    expect(forwarded.at! - sentAt).toBeLessThan(6_000);
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(textTimeline(result.stderr)).toMatchObject({ stop: "INT", forwarded: "INT" });
  });

  it("auto, with FLY_APP_NAME set: logs what it found and chose, and INT starts the drain", async () => {
    const run = start(["--platform", "auto", "--drain", "500ms", "--", ...SIGNAL_RECORDER, "--exit-on", "SIGINT"], {
      env: { PATH, FLY_APP_NAME: "web" },
    });
    await waitForEvent(run, "ready");
    expect(run.stderr).toContain(
      "drainit: --platform auto: FLY_APP_NAME is set: Fly.io; stop signals TERM,INT, budget 5s (Fly.io's default)\n",
    );
    await signalAt(run, "SIGINT");
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("drainit: INT received: draining");
    expect(textTimeline(result.stderr)).toMatchObject({ stop: "INT", forwarded: "INT" });
  });

  it("without it, INT is not a stop signal: it is forwarded at once", async () => {
    const run = start(["--drain", "5s", "--", ...SIGNAL_RECORDER, "--exit-on", "SIGINT"], {
      env: { PATH, FLY_APP_NAME: "web" },
    });
    await waitForEvent(run, "ready");
    await signalAt(run, "SIGINT");
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("platform");
    expect(result.stderr).not.toContain("draining");
  });

  it("DRAINIT_PLATFORM=auto on Heroku warns that drainit cannot hold the app's SIGTERM back", async () => {
    const run = start(["--", "sh", "-c", "exit 3"], { env: { PATH, DRAINIT_PLATFORM: "auto", DYNO: "web.1" } });
    const result = await run.finished;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("drainit: --platform auto: DYNO is set: Heroku;");
    expect(result.stderr).toMatch(/^drainit: Heroku sends SIGTERM to every process of the container at once/m);
  });

  it("exits 2 with one line for an unknown platform, nothing started", async () => {
    const run = start(["--platform", "openshift", "--", "sh", "-c", "echo started"]);
    const result = await run.finished;
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "drainit: --platform: 'openshift' is not one of auto, kubernetes, ecs, fly, nomad, cloudrun, docker, heroku (see drainit --help)\n",
    );
  });
});
