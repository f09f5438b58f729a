// Supervisor behaviour that the stress tests found missing: reaping ahead of forwarding, and
// what a drain hook leaves running.
import { describe, expect, it } from "vitest";
import { SIGNALS } from "../../src/signals.ts";
import { Rig } from "./fakes.ts";

const commandHook = (...argv: string[]) => ({ kind: "command" as const, argv, text: argv.join(" ") });

describe("supervisor under load", () => {
  it("reaps waiting zombies before it forwards a signal, even when their SIGCHLD has not come yet", () => {
    const rig = new Rig();
    const pid = rig.start();
    // Orphans in the child's group exited; the kernel holds them as zombies, SIGCHLD still queued.
    const orphans = [rig.kernel.addProcess({ pgid: pid }), rig.kernel.addProcess({ pgid: pid })];
    for (const orphan of orphans) rig.kernel.exit(orphan.pid, { code: 0 });
    rig.signal("USR1");
    expect(orphans.every((orphan) => orphan.reaped)).toBe(true);
    expect(rig.sent()).toEqual([`-${pid}:USR1`]);
  });

  it("ends the run when reaping ahead of a signal finds the last leftover gone", () => {
    const rig = new Rig();
    const pid = rig.start();
    // A leftover in the child's group that outlives the TERM drainit sends when the child exits.
    const leftover = rig.kernel.addProcess({ pgid: pid });
    rig.exits(pid, { code: 7 });
    expect(rig.effects.exitCode).toBeNull();
    rig.kernel.exit(leftover.pid, { code: 0 });
    rig.signal("HUP");
    expect(rig.effects.exitCode).toBe(7);
    expect(rig.sent()).not.toContain(`-${pid}:HUP`);
  });

  it("terminates what a finished hook left running in its group, with the child's leftovers", () => {
    const rig = new Rig({ drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    const hook = rig.hookPid();
    const background = rig.kernel.addProcess({ pgid: hook, diesOn: [SIGNALS.TERM!] });
    rig.exits(hook, { code: 0 });
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    rig.exits(pid, { code: 0 });
    expect(rig.sent()).toContain(`-${hook}:TERM`);
    expect(background.received).toEqual([SIGNALS.TERM!]);
    rig.supervisor.receiveSignal(SIGNALS.CHLD!);
    expect(rig.effects.exitCode).toBe(0);
  });

  it("SIGKILLs what a finished hook left running when --grace expires", () => {
    const rig = new Rig({ drainHook: commandHook("notify"), graceMs: 1_000 });
    const pid = rig.start();
    rig.signal("TERM");
    const hook = rig.hookPid();
    const background = rig.kernel.addProcess({ pgid: hook });
    rig.exits(hook, { code: 0 });
    rig.clock.advance(1_000);
    expect(rig.sent()).toContain(`-${hook}:KILL`);
    expect(background.status).toEqual({ signal: SIGNALS.KILL! });
    expect(rig.sent()).toContain(`-${pid}:KILL`);
  });
});
