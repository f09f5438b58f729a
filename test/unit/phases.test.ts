// The phase machine moves only along the table in src/supervisor/phases.ts, whatever the events.
import { describe, expect, it } from "vitest";
import { canMove, type Phase } from "../../src/supervisor/phases.ts";
import { Rig } from "./fakes.ts";

describe("phases", () => {
  it("goes running → draining → stopping → finishing → exited on a stop signal", () => {
    const rig = new Rig({ drainMs: 1_000 });
    const seen: Phase[] = [];
    const note = () => seen.at(-1) !== rig.supervisor.state && seen.push(rig.supervisor.state);
    note();
    const pid = rig.start();
    note();
    rig.signal("TERM");
    note();
    rig.clock.advance(1_000);
    note();
    rig.kernel.addProcess({ pgid: pid }).diesOn.clear();
    rig.exits(pid, { code: 0 });
    note();
    rig.clock.advance(10_000);
    note();
    expect(seen).toEqual(["idle", "running", "draining", "stopping", "finishing", "exited"]);
  });

  it("allows no move out of exited and none back to running", () => {
    const phases: Phase[] = ["idle", "running", "draining", "stopping", "finishing", "exited"];
    expect(phases.filter((to) => canMove("exited", to))).toEqual([]);
    expect(phases.filter((from) => canMove(from, "running"))).toEqual(["idle"]);
    expect(phases.filter((to) => canMove("finishing", to))).toEqual(["exited"]);
  });
});

describe("the HTTP hook's answer, an event", () => {
  const httpHook = { kind: "http" as const, url: "http://127.0.0.1:9/drain" };

  it("changes nothing when it comes after the hook timed out", async () => {
    const rig = new Rig({ drainHook: httpHook, hookTimeoutMs: 1_000 });
    rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000);
    rig.effects.httpCalls[0]!.resolve({ kind: "http", status: 200 });
    await Promise.resolve();
    expect(rig.log.find(/drain hook done/)).toBeUndefined();
    expect(rig.log.find(/drain hook failed; going on/)?.fields).toEqual({ result: "timeout", ms: 1_000 });
  });

  it("changes nothing when it comes after the run ended", async () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: httpHook });
    const pid = rig.start();
    rig.signal("TERM");
    rig.exits(pid, { code: 0 });
    rig.effects.httpCalls[0]!.resolve({ kind: "http", status: 200 });
    await Promise.resolve();
    expect(rig.log.find(/drain hook/)).toBeUndefined();
    expect(rig.effects.calls).toEqual(["markDraining", "cleanUp", "exit(0)"]);
  });
});
