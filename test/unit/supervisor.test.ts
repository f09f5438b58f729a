import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import { LogLevel } from "../../src/config.ts";
import { SIGCHLD, SIGNALS } from "../../src/signals.ts";
import { ABORT_WAIT_MS, SAFETY_REAP_INTERVAL_MS } from "../../src/supervisor/supervisor.ts";
import { DEFAULT_LEFTOVER_WAIT_MS } from "../../src/supervisor/stop-plan.ts";
import { EXIT_INTERNAL_ERROR } from "../../src/exit-codes.ts";
import { Rig, settle } from "./fakes.ts";

const sig = (name: string): number => SIGNALS[name]!;
const TERM = sig("TERM");
const KILL = sig("KILL");
const sigs = (...names: string[]) => new Set(names.map(sig));
const rewrites = (...pairs: [string, string | 0][]) =>
  new Map(pairs.map(([from, to]) => [sig(from), to === 0 ? 0 : sig(to)] as [number, number]));
const commandHook = (...argv: string[]) => ({ kind: "command" as const, argv, text: argv.join(" ") });
const httpHook = (url: string) => ({ kind: "http" as const, url });

describe("start", () => {
  it("spawns the command in a session of its own by default", () => {
    const rig = new Rig();
    const pid = rig.start();
    expect(rig.kernel.spawns).toHaveLength(1);
    expect(rig.kernel.spawns[0]).toMatchObject({ argv: ["app", "--serve"], isolation: "session" });
    expect(pid).toBeGreaterThan(0);
    expect(rig.supervisor.state).toBe("running");
  });

  it("keeps the child in drainit's session with --single-child", () => {
    const rig = new Rig({ singleChild: true });
    rig.start();
    expect(rig.kernel.spawns[0]!.isolation).toBe("group");
  });

  it("passes the launch argv and environment through untouched", () => {
    const raw = new Uint8Array([0x61, 0xff]);
    const rig = new Rig({}, { launch: { argv: [raw, "x y"], env: ["A=1", "EMPTY="] } });
    rig.start();
    expect(rig.kernel.spawns[0]!.argv).toEqual([raw, "x y"]);
    expect(rig.kernel.spawns[0]!.env).toEqual(["A=1", "EMPTY="]);
  });

  it("does not become a subreaper as PID 1 without -s", () => {
    const rig = new Rig({}, { ownPid: 1 });
    rig.start();
    expect(rig.kernel.subreaperCalls).toBe(0);
  });

  it("becomes a subreaper automatically when it is not PID 1", () => {
    const rig = new Rig({}, { ownPid: 4242 });
    rig.start();
    expect(rig.kernel.subreaperCalls).toBe(1);
  });

  it("becomes a subreaper as PID 1 with -s", () => {
    const rig = new Rig({ subreaper: true }, { ownPid: 1 });
    rig.start();
    expect(rig.kernel.subreaperCalls).toBe(1);
  });

  it("sets the parent-death signal with -p", () => {
    const rig = new Rig({ pdeathsig: sig("KILL") });
    rig.start();
    expect(rig.kernel.parentDeathSignal).toBe(KILL);
  });

  it("sets no parent-death signal without -p", () => {
    const rig = new Rig();
    rig.start();
    expect(rig.kernel.parentDeathSignal).toBeNull();
  });

  it("goes on with a warning when becoming a subreaper fails", () => {
    const rig = new Rig({ subreaper: true });
    rig.kernel.becomeSubreaper = () => {
      throw new Error("EINVAL");
    };
    rig.start();
    expect(rig.log.find(/could not become a child subreaper: EINVAL/)?.level).toBe("warn");
    expect(rig.supervisor.state).toBe("running");
  });
});

describe("a command that cannot be executed", () => {
  it("exits 127 with one line when it is not found", () => {
    const rig = new Rig({ command: ["nosuchcmd"] }, { launch: { argv: ["nosuchcmd"] } });
    rig.kernel.failSpawn("nosuchcmd", "ENOENT");
    rig.start();
    expect(rig.effects.exitCode).toBe(127);
    expect(rig.log.ofLevel("error").map((r) => r.message)).toEqual([
      "cannot run 'nosuchcmd': No such file or directory",
    ]);
    expect(rig.supervisor.state).toBe("exited");
  });

  it("exits 126 with one line when it is not executable", () => {
    const rig = new Rig({ command: ["./script"] }, { launch: { argv: ["./script"] } });
    rig.kernel.failSpawn("./script", "EACCES");
    rig.start();
    expect(rig.effects.exitCode).toBe(126);
    expect(rig.log.ofLevel("error").map((r) => r.message)).toEqual(["cannot run './script': Permission denied"]);
  });

  it("cleans up before exiting and ignores later signals", () => {
    const rig = new Rig({ command: ["nosuchcmd"] }, { launch: { argv: ["nosuchcmd"] } });
    rig.kernel.failSpawn("nosuchcmd", "ENOENT");
    rig.start();
    rig.signal("TERM");
    expect(rig.effects.calls).toEqual(["cleanUp", "exit(127)"]);
    expect(rig.kernel.signalsSent).toEqual([]);
  });
});

describe("exit codes", () => {
  for (const code of [0, 1, 77, 255]) {
    it(`passes exit code ${code} on`, () => {
      const rig = new Rig();
      const pid = rig.start();
      rig.exits(pid, { code });
      expect(rig.effects.exitCode).toBe(code);
    });
  }

  for (const [name, code] of [["TERM", 143], ["HUP", 129], ["KILL", 137]] as const) {
    it(`exits ${code} when SIG${name} killed the child`, () => {
      const rig = new Rig();
      const pid = rig.start();
      rig.exits(pid, { signal: sig(name) });
      expect(rig.effects.exitCode).toBe(code);
    });
  }

  it("maps a --remap-exit code to 0", () => {
    const rig = new Rig({ remapExit: new Set([77, 3]) });
    const pid = rig.start();
    rig.exits(pid, { code: 77 });
    expect(rig.effects.exitCode).toBe(0);
  });

  it("leaves codes that are not remapped alone", () => {
    const rig = new Rig({ remapExit: new Set([77]) });
    const pid = rig.start();
    rig.exits(pid, { code: 78 });
    expect(rig.effects.exitCode).toBe(78);
  });

  it("remaps 128+n codes of a signal death", () => {
    const rig = new Rig({ remapExit: new Set([143]) });
    const pid = rig.start();
    rig.exits(pid, { signal: TERM });
    expect(rig.effects.exitCode).toBe(0);
  });

  it("exits once, after cleaning up", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.exits(pid, { code: 5 });
    rig.supervisor.receiveSignal(SIGCHLD);
    rig.clock.advance(60_000);
    expect(rig.effects.calls).toEqual(["cleanUp", "exit(5)"]);
    expect(rig.supervisor.state).toBe("exited");
  });
});

describe("forwarding", () => {
  it("sends signals to the child's process group by default", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.signal("HUP");
    rig.signal("USR1");
    expect(rig.sent()).toEqual([`-${pid}:HUP`, `-${pid}:USR1`]);
  });

  it("sends signals to the child alone with --single-child", () => {
    const rig = new Rig({ singleChild: true });
    const pid = rig.start();
    rig.signal("HUP");
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`${pid}:HUP`, `${pid}:TERM`]);
  });

  it("reaches a grandchild in the group, and not with --single-child", () => {
    const group = new Rig();
    const pid = group.start();
    const grandchild = group.kernel.addProcess({ pgid: pid });
    group.signal("USR2");
    expect(grandchild.received).toEqual([sig("USR2")]);

    const single = new Rig({ singleChild: true });
    const pid2 = single.start();
    const grandchild2 = single.kernel.addProcess({ pgid: pid2 });
    single.signal("USR2");
    expect(grandchild2.received).toEqual([]);
    expect(single.kernel.process(pid2).received).toEqual([sig("USR2")]);
  });

  it("falls back to the child's pid when it left its process group", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.kernel.moveToGroup(pid, 9999);
    rig.signal("HUP");
    expect(rig.sent()).toEqual([`-${pid}:HUP`, `${pid}:HUP`]);
    expect(rig.kernel.process(pid).received).toEqual([sig("HUP")]);
  });

  it("rewrites a signal before forwarding it", () => {
    const rig = new Rig({ rewrites: rewrites(["HUP", "USR1"]) });
    const pid = rig.start();
    rig.signal("HUP");
    expect(rig.sent()).toEqual([`-${pid}:USR1`]);
  });

  it("rewrites the stop signal", () => {
    const rig = new Rig({ rewrites: rewrites(["TERM", "QUIT"]) });
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:QUIT`]);
  });

  it("drops a signal rewritten to 0", () => {
    const rig = new Rig({ rewrites: rewrites(["HUP", 0]) });
    rig.start();
    rig.signal("HUP");
    expect(rig.sent()).toEqual([]);
    expect(rig.log.find(/dropped signal/)?.fields).toMatchObject({ signal: "HUP" });
  });

  it("forwards the stop signal at once when no drain is configured", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.supervisor.state).toBe("stopping");
  });

  it("handles SIGCHLD instead of forwarding it", () => {
    const rig = new Rig();
    rig.start();
    rig.supervisor.receiveSignal(SIGCHLD);
    expect(rig.sent()).toEqual([]);
  });

  it("forwards nothing before start and after exit", () => {
    const rig = new Rig();
    rig.signal("HUP");
    const pid = rig.start();
    rig.exits(pid, { code: 0 });
    const before = rig.kernel.kills.length;
    rig.signal("HUP");
    rig.signal("TERM");
    expect(rig.kernel.kills.length).toBe(before);
  });
});

describe("reaping", () => {
  it("reaps every ready zombie on one SIGCHLD", () => {
    const rig = new Rig();
    rig.start();
    const orphans = [1, 2, 3, 4, 5].map(() => rig.kernel.addProcess());
    for (const orphan of orphans) rig.kernel.exit(orphan.pid, { code: 0 });
    rig.supervisor.receiveSignal(SIGCHLD);
    expect(orphans.every((o) => o.reaped)).toBe(true);
    expect(rig.supervisor.state).toBe("running");
  });

  it("sees the child's exit among other zombies reaped on the same SIGCHLD", () => {
    const rig = new Rig({ singleChild: true });
    const pid = rig.start();
    const orphan = rig.kernel.addProcess();
    rig.kernel.exit(orphan.pid, { code: 9 });
    rig.kernel.exit(pid, { code: 4 });
    rig.supervisor.receiveSignal(SIGCHLD);
    expect(orphan.reaped).toBe(true);
    expect(rig.effects.exitCode).toBe(4);
  });

  it("logs reaped zombies as warnings with --warn-on-reap", () => {
    const rig = new Rig({ warnOnReap: true });
    rig.start();
    const orphan = rig.kernel.addProcess();
    rig.exits(orphan.pid, { code: 3 });
    expect(rig.log.ofLevel("warn")).toEqual([
      { level: "warn", message: "reaped zombie", fields: { pid: orphan.pid, status: 3 } },
    ]);
  });

  it("does not warn about reaped zombies without --warn-on-reap", () => {
    const rig = new Rig();
    rig.start();
    const orphan = rig.kernel.addProcess();
    rig.exits(orphan.pid, { code: 3 });
    expect(orphan.reaped).toBe(true);
    expect(rig.log.ofLevel("warn")).toEqual([]);
  });

  it("reaps on a safety timer when a SIGCHLD was lost", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.kernel.exit(pid, { code: 6 });
    rig.clock.advance(SAFETY_REAP_INTERVAL_MS - 1);
    expect(rig.effects.exitCode).toBeNull();
    rig.clock.advance(1);
    expect(rig.effects.exitCode).toBe(6);
  });
});

describe("leftovers after the child exits", () => {
  it("sends SIGTERM to what is left of the group and exits once it is gone", () => {
    const rig = new Rig();
    const pid = rig.start();
    const grandchild = rig.kernel.addProcess({ pgid: pid });
    rig.exits(pid, { code: 7 });
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(grandchild.received).toEqual([TERM]);
    expect(rig.effects.exitCode).toBeNull();
    rig.exits(grandchild.pid, { signal: TERM });
    expect(rig.effects.exitCode).toBe(7);
  });

  it("exits in the same turn when the leftovers die on the SIGTERM at once", () => {
    const rig = new Rig();
    const pid = rig.start();
    const grandchild = rig.kernel.addProcess({ pgid: pid, diesOn: [TERM] });
    rig.exits(pid, { code: 7 });
    expect(grandchild.reaped).toBe(true);
    expect(rig.effects.exitCode).toBe(7);
  });

  it("notices leftovers are gone by polling, without a SIGCHLD", () => {
    const rig = new Rig();
    const pid = rig.start();
    const grandchild = rig.kernel.addProcess({ pgid: pid });
    rig.exits(pid, { code: 7 });
    rig.kernel.exit(grandchild.pid, { code: 0 });
    rig.clock.advance(100);
    expect(rig.effects.exitCode).toBe(7);
  });

  it("exits at once when nothing is left of the group", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.exits(pid, { code: 0 });
    expect(rig.effects.exitCode).toBe(0);
  });

  it("SIGKILLs leftovers that ignore SIGTERM after the default wait", () => {
    const rig = new Rig();
    const pid = rig.start();
    const stubborn = rig.kernel.addProcess({ pgid: pid });
    rig.exits(pid, { code: 7 });
    rig.clock.advance(DEFAULT_LEFTOVER_WAIT_MS - 1);
    expect(rig.effects.exitCode).toBeNull();
    expect(rig.kernel.killsOf(KILL)).toEqual([]);
    rig.clock.advance(1);
    expect(rig.kernel.killsOf(KILL)).toContainEqual({ pid: -pid, signal: KILL });
    expect(stubborn.status).toEqual({ signal: KILL });
    expect(rig.effects.exitCode).toBe(7);
  });

  it("waits for leftovers no longer than the grace deadline", () => {
    const rig = new Rig({ graceMs: 5_000 });
    const pid = rig.start();
    rig.kernel.addProcess({ pgid: pid });
    rig.signal("TERM"); // forwarded at t=0: the grace deadline is t=5000
    rig.clock.advance(1_000);
    rig.exits(pid, { signal: TERM });
    rig.clock.advance(3_999);
    expect(rig.effects.exitCode).toBeNull();
    rig.clock.advance(1);
    expect(rig.kernel.killsOf(KILL)).toContainEqual({ pid: -pid, signal: KILL });
    expect(rig.effects.exitCode).toBe(143);
  });

  it("waits --grace for leftovers when the child exited on its own", () => {
    const rig = new Rig({ graceMs: 500 });
    const pid = rig.start();
    rig.kernel.addProcess({ pgid: pid });
    rig.exits(pid, { code: 0 });
    rig.clock.advance(499);
    expect(rig.effects.exitCode).toBeNull();
    rig.clock.advance(1);
    expect(rig.effects.exitCode).toBe(0);
  });

  it("gives leftovers only a moment once the grace period has run out", () => {
    const rig = new Rig({ graceMs: 1_000 });
    const pid = rig.start();
    const unkillable = rig.kernel.addProcess({ pgid: pid });
    unkillable.diesOn.clear(); // as a process stuck in the kernel: even SIGKILL takes a while
    rig.signal("TERM");
    rig.clock.advance(1_000); // grace expires: SIGKILL for the group, the child dies of it
    rig.supervisor.receiveSignal(SIGCHLD);
    const killedAt = rig.clock.now();
    rig.clock.advance(1_000);
    expect(rig.effects.exitCode).toBe(137);
    expect(rig.effects.exitedAt! - killedAt).toBeLessThan(1_000);
  });

  it("cancels an HTTP hook still under way when the child exits", async () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: httpHook("http://127.0.0.1:9/drain") });
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.effects.httpCalls[0]!.cancelled).toBe(false);
    rig.exits(pid, { code: 0 });
    expect(rig.effects.httpCalls[0]!.cancelled).toBe(true);
    expect(rig.effects.exitCode).toBe(0);
  });

  it("leaves the group alone with --single-child", () => {
    const rig = new Rig({ singleChild: true });
    const pid = rig.start();
    const other = rig.kernel.addProcess({ pgid: pid, diesOn: [TERM] });
    rig.exits(pid, { code: 2 });
    expect(rig.sent()).toEqual([]);
    expect(other.status).toBeNull();
    expect(rig.effects.exitCode).toBe(2);
  });
});

describe("abort", () => {
  it("passes SIGTERM on and exits 70 once the child is gone", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.supervisor.abort("boom");
    expect(rig.log.find(/internal error: boom/)?.level).toBe("error");
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    rig.exits(pid, { signal: TERM });
    expect(rig.effects.exitCode).toBe(EXIT_INTERNAL_ERROR);
  });

  it("SIGKILLs a child that does not exit in time, then exits 70", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.supervisor.abort("boom");
    rig.clock.advance(ABORT_WAIT_MS - 1);
    expect(rig.effects.exitCode).toBeNull();
    rig.clock.advance(1);
    expect(rig.kernel.killsOf(KILL)).toContainEqual({ pid: -pid, signal: KILL });
    expect(rig.effects.exitCode).toBe(EXIT_INTERNAL_ERROR);
  });

  it("exits 70 at once when no child was started", () => {
    const rig = new Rig();
    rig.supervisor.abort("early");
    expect(rig.effects.exitCode).toBe(EXIT_INTERNAL_ERROR);
  });
});

describe("drain sequence", () => {
  it("marks draining at once and cleans up once, at exit", () => {
    const rig = new Rig({ drainMs: 5_000 });
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.effects.calls).toEqual(["markDraining"]);
    expect(rig.supervisor.state).toBe("draining");
    rig.clock.advance(5_000);
    rig.exits(pid, { code: 0 });
    rig.clock.advance(10_000);
    expect(rig.effects.calls).toEqual(["markDraining", "cleanUp", "exit(0)"]);
  });

  it("forwards the stop signal when the drain has elapsed, not before", () => {
    const rig = new Rig({ drainMs: 5_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(4_999);
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.supervisor.state).toBe("stopping");
  });

  it("forwards the rewritten stop signal after the drain", () => {
    const rig = new Rig({ drainMs: 1_000, rewrites: rewrites(["TERM", "QUIT"]) });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000);
    expect(rig.sent()).toEqual([`-${pid}:QUIT`]);
  });

  it("forwards nothing when the stop signal is rewritten to 0", () => {
    const rig = new Rig({ drainMs: 1_000, rewrites: rewrites(["TERM", 0]) });
    rig.start();
    rig.signal("TERM");
    rig.clock.advance(5_000);
    expect(rig.sent()).toEqual([]);
  });

  it("sends the stop signal to the child alone with --single-child", () => {
    const rig = new Rig({ drainMs: 1_000, singleChild: true });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000);
    expect(rig.sent()).toEqual([`${pid}:TERM`]);
  });

  it("runs a command hook in its own group, in the starting directory, with the launch environment", () => {
    const rig = new Rig(
      { drainHook: commandHook("notify", "--drain") },
      { launch: { argv: ["app"], env: ["K=v"], cwd: "/srv/app" } },
    );
    rig.start();
    rig.signal("TERM");
    expect(rig.kernel.spawns[1]).toEqual({ argv: ["notify", "--drain"], env: ["K=v"], cwd: "/srv/app", isolation: "group" });
  });

  it("counts the drain from the stop signal, not from the hook's end", () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(2_000);
    rig.exits(rig.hookPid(), { code: 0 });
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(2_999);
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.log.find(/drain hook done/)?.fields).toEqual({ result: "exited(0)", ms: 2_000 });
  });

  it("waits for a hook that takes longer than the drain, then forwards at once", () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(7_000);
    expect(rig.sent()).toEqual([]);
    rig.exits(rig.hookPid(), { code: 0 });
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("forwards right after the hook when no drain is set", () => {
    const rig = new Rig({ drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(300);
    rig.exits(rig.hookPid(), { code: 0 });
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("SIGKILLs the hook's group at the hook timeout and goes on", () => {
    const rig = new Rig({ drainMs: 1_000, drainHook: commandHook("notify"), hookTimeoutMs: 3_000 });
    const pid = rig.start();
    rig.signal("TERM");
    const hook = rig.hookPid();
    rig.clock.advance(2_999);
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${hook}:KILL`, `-${pid}:TERM`]);
    expect(rig.log.find(/drain hook failed/)).toMatchObject({ level: "warn", fields: { result: "timeout", ms: 3_000 } });
  });

  it("goes on when the hook exits nonzero, logging its code", () => {
    const rig = new Rig({ drainMs: 2_000, drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(500);
    rig.exits(rig.hookPid(), { code: 3 });
    expect(rig.log.find(/drain hook failed/)).toMatchObject({ level: "warn", fields: { result: "exited(3)", ms: 500 } });
    rig.clock.advance(1_500);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("goes on when the hook cannot be started", () => {
    const rig = new Rig({ drainMs: 2_000, drainHook: commandHook("notify") });
    rig.kernel.failSpawn("notify", "ENOENT");
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.log.find(/drain hook failed/)?.message).toBe(
      "drain hook failed: cannot run 'notify': No such file or directory; going on",
    );
    rig.clock.advance(2_000);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("POSTs to an HTTP hook and forwards once it answers", async () => {
    const rig = new Rig({ drainMs: 1_000, drainHook: httpHook("http://127.0.0.1:9901/drain") });
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.effects.httpCalls.map((c) => c.url)).toEqual(["http://127.0.0.1:9901/drain"]);
    rig.clock.advance(1_500);
    expect(rig.sent()).toEqual([]);
    rig.effects.httpCalls[0]!.resolve({ kind: "http", status: 200 });
    await settle();
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.log.find(/drain hook done/)?.fields).toEqual({ result: "http(200)", ms: 1_500 });
  });

  it("goes on after an HTTP 500 from the hook", async () => {
    const rig = new Rig({ drainMs: 1_000, drainHook: httpHook("http://127.0.0.1:9901/drain") });
    const pid = rig.start();
    rig.signal("TERM");
    rig.effects.httpCalls[0]!.resolve({ kind: "http", status: 500 });
    await settle();
    expect(rig.log.find(/drain hook failed/)).toMatchObject({ level: "warn", fields: { result: "http(500)" } });
    rig.clock.advance(1_000);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("goes on when the HTTP hook cannot be reached", async () => {
    const rig = new Rig({ drainMs: 1_000, drainHook: httpHook("http://127.0.0.1:9901/drain") });
    const pid = rig.start();
    rig.signal("TERM");
    rig.effects.httpCalls[0]!.resolve({ kind: "failed", reason: "POST http://127.0.0.1:9901/drain: ECONNREFUSED" });
    await settle();
    expect(rig.log.find(/drain hook failed/)?.message).toBe(
      "drain hook failed: POST http://127.0.0.1:9901/drain: ECONNREFUSED; going on",
    );
    rig.clock.advance(1_000);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("aborts an HTTP hook at the hook timeout and goes on", () => {
    const rig = new Rig({ drainHook: httpHook("http://127.0.0.1:9901/drain"), hookTimeoutMs: 2_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(2_000);
    expect(rig.effects.httpCalls[0]!.cancelled).toBe(true);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("stops waiting when the child exits during the hook", () => {
    const rig = new Rig({ drainMs: 10_000, drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    const hook = rig.hookPid();
    rig.kernel.process(hook).diesOn.add(TERM);
    rig.clock.advance(1_000);
    rig.exits(pid, { code: 0 });
    // The leftovers of the child's group and the hook's group get SIGTERM; nothing waits for the drain.
    expect(rig.sent()).toEqual([`-${pid}:TERM`, `-${hook}:TERM`]);
    expect(rig.kernel.process(hook).reaped).toBe(true);
    expect(rig.effects.exitCode).toBe(0);
    expect(rig.effects.exitedAt).toBe(1_000);
  });

  it("stops waiting when the child exits during the drain", () => {
    const rig = new Rig({ drainMs: 10_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(2_000);
    rig.exits(pid, { code: 0 });
    expect(rig.effects.exitCode).toBe(0);
    expect(rig.log.find(/child exited during the drain/)).toBeDefined();
    rig.clock.advance(20_000);
    expect(rig.kernel.killsOf(TERM).filter((k) => k.pid === pid)).toEqual([]);
  });

  it("forwards at once on a second stop signal, skipping the rest of the drain", () => {
    const rig = new Rig({ drainMs: 10_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000);
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.log.find(/second TERM: skipping the rest of the drain/)?.level).toBe("info");
    rig.clock.advance(20_000);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("forwards at once on a second stop signal while the hook still runs", () => {
    const rig = new Rig({ drainHook: commandHook("notify") });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(100);
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("forwards again on a third stop signal", () => {
    const rig = new Rig({ drainMs: 10_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.signal("TERM");
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:TERM`, `-${pid}:TERM`]);
  });

  it("forwards other signals immediately during the drain", () => {
    const rig = new Rig({ drainMs: 5_000, rewrites: rewrites(["USR2", "WINCH"]) });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000);
    rig.signal("HUP");
    rig.signal("USR2");
    expect(rig.sent()).toEqual([`-${pid}:HUP`, `-${pid}:WINCH`]);
    expect(rig.supervisor.state).toBe("draining");
    rig.clock.advance(4_000);
    expect(rig.sent()).toEqual([`-${pid}:HUP`, `-${pid}:WINCH`, `-${pid}:TERM`]);
  });

  it("starts the drain on any of several stop signals and forwards the one that came", () => {
    const rig = new Rig({ drainMs: 3_000, stopSignals: sigs("TERM", "INT") });
    const pid = rig.start();
    rig.signal("INT");
    expect(rig.supervisor.state).toBe("draining");
    rig.clock.advance(3_000);
    expect(rig.sent()).toEqual([`-${pid}:INT`]);
  });

  it("counts another stop signal as the second one", () => {
    const rig = new Rig({ drainMs: 3_000, stopSignals: sigs("TERM", "INT") });
    const pid = rig.start();
    rig.signal("INT");
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("does not drain on a signal that is not a stop signal", () => {
    const rig = new Rig({ drainMs: 3_000, stopSignals: sigs("INT") });
    const pid = rig.start();
    rig.signal("TERM");
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.effects.calls).toEqual([]);
    expect(rig.supervisor.state).toBe("running");
  });

  it("SIGKILLs the group when the child outlives --grace", () => {
    const rig = new Rig({ drainMs: 1_000, graceMs: 3_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000 + 2_999);
    expect(rig.kernel.killsOf(KILL)).toEqual([]);
    rig.clock.advance(1);
    expect(rig.kernel.killsOf(KILL)).toContainEqual({ pid: -pid, signal: KILL });
    rig.supervisor.receiveSignal(SIGCHLD);
    expect(rig.effects.exitCode).toBe(137);
  });

  it("SIGKILLs the hook's group too at grace expiry", () => {
    const rig = new Rig({ drainHook: commandHook("notify"), graceMs: 2_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.signal("TERM"); // forwards at once while the hook runs
    const hook = rig.hookPid();
    rig.clock.advance(2_000);
    expect(rig.kernel.killsOf(KILL)).toEqual(
      expect.arrayContaining([{ pid: -pid, signal: KILL }, { pid: -hook, signal: KILL }]),
    );
  });

  it("sends no SIGKILL when the child exits within --grace", () => {
    const rig = new Rig({ graceMs: 3_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(2_000);
    rig.exits(pid, { code: 0 });
    rig.clock.advance(10_000);
    expect(rig.kernel.killsOf(KILL)).toEqual([]);
    expect(rig.effects.exitCode).toBe(0);
  });

  it("forwards at budget minus grace when the drain would run past it", () => {
    const rig = new Rig({ drainMs: 20_000, graceMs: 3_000, budgetMs: 10_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(6_999);
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("keeps at least one second before the budget deadline", () => {
    const rig = new Rig({ drainMs: 20_000, graceMs: 200, budgetMs: 10_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(8_999);
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("forwards at the budget even while the hook still runs", () => {
    const rig = new Rig({ drainMs: 1_000, drainHook: commandHook("notify"), budgetMs: 5_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(4_000);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
    expect(rig.log.find(/--budget reached while the drain hook runs/)?.level).toBe("warn");
  });

  it("leaves the drain alone when it fits in the budget", () => {
    const rig = new Rig({ drainMs: 5_000, graceMs: 3_000, budgetMs: 30_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(4_999);
    expect(rig.sent()).toEqual([]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${pid}:TERM`]);
  });

  it("warns at start when drain or hook timeout plus grace exceed the budget", () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: commandHook("notify"), hookTimeoutMs: 8_000, graceMs: 5_000, budgetMs: 10_000 });
    rig.start();
    const warning = rig.log.find(/exceeds --budget/);
    expect(warning?.level).toBe("warn");
    expect(warning?.message).toContain("8000ms + grace 5000ms");
    expect(warning?.message).toContain("forwarded 5000ms after it arrives at the latest");
  });

  it("does not warn at start when the plan fits the budget", () => {
    const rig = new Rig({ drainMs: 5_000, graceMs: 5_000, budgetMs: 10_000 });
    rig.start();
    expect(rig.log.ofLevel("warn")).toEqual([]);
  });

  it("does not restart the grace period on a later stop signal", () => {
    const rig = new Rig({ graceMs: 3_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(2_000);
    rig.signal("TERM");
    rig.clock.advance(1_000);
    expect(rig.kernel.killsOf(KILL)).toContainEqual({ pid: -pid, signal: KILL });
  });

  it("forwards after the drain when the hook timed out earlier", () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: commandHook("notify"), hookTimeoutMs: 1_000 });
    const pid = rig.start();
    rig.signal("TERM");
    const hook = rig.hookPid();
    rig.clock.advance(1_000);
    expect(rig.sent()).toEqual([`-${hook}:KILL`]);
    rig.exits(hook, { signal: KILL });
    rig.clock.advance(3_999);
    expect(rig.sent()).toEqual([`-${hook}:KILL`]);
    rig.clock.advance(1);
    expect(rig.sent()).toEqual([`-${hook}:KILL`, `-${pid}:TERM`]);
  });

  it("SIGTERMs a hook still running when the child exits, and SIGKILLs it at the leftover deadline", () => {
    const rig = new Rig({ drainHook: commandHook("notify"), singleChild: true });
    const pid = rig.start();
    rig.signal("TERM");
    const hook = rig.hookPid();
    rig.exits(pid, { code: 0 });
    expect(rig.sent()).toEqual([`-${hook}:TERM`]);
    rig.clock.advance(DEFAULT_LEFTOVER_WAIT_MS - 1);
    expect(rig.effects.exitCode).toBeNull();
    rig.clock.advance(1);
    expect(rig.sent()).toContain(`-${hook}:KILL`);
    expect(rig.effects.exitCode).toBe(0);
  });

  it("does not report the hook as a stray zombie with --warn-on-reap", () => {
    const rig = new Rig({ drainHook: commandHook("notify"), warnOnReap: true });
    rig.start();
    rig.signal("TERM");
    rig.exits(rig.hookPid(), { code: 0 });
    expect(rig.log.find(/reaped zombie/)).toBeUndefined();
  });

  it("leaves no timer behind once it has exited", () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: commandHook("notify"), graceMs: 3_000, budgetMs: 20_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(1_000);
    rig.exits(pid, { code: 0 });
    rig.exits(rig.hookPid(), { signal: TERM });
    expect(rig.effects.exitCode).toBe(0);
    expect(rig.clock.pendingTimers).toBe(0);
  });

  it("does not drain again on a stop signal after the child exited", () => {
    const rig = new Rig({ drainMs: 5_000 });
    const pid = rig.start();
    rig.kernel.addProcess({ pgid: pid });
    rig.exits(pid, { code: 0 });
    rig.signal("TERM");
    expect(rig.effects.calls).toEqual([]);
    expect(rig.sent()).toEqual([`-${pid}:TERM`, `-${pid}:TERM`]);
  });
});

describe("timeline", () => {
  it("says the stop signal was dropped when --rewrite turns it into 0", () => {
    const rig = new Rig({ rewrites: rewrites(["TERM", 0]) });
    const pid = rig.start();
    rig.signal("TERM");
    rig.exits(pid, { code: 0 });
    expect(rig.log.find(/^timeline$/)?.fields?.forwarded).toBe("dropped");
  });

  function drainedRun(rig: Rig): void {
    const pid = rig.start();
    rig.clock.advance(10_000); // started long before the stop signal: times are counted from it
    rig.signal("TERM");
    rig.clock.advance(2_000);
    rig.exits(rig.hookPid(), { code: 0 });
    rig.clock.advance(3_000);
    rig.clock.advance(500);
    rig.exits(pid, { signal: TERM });
  }

  it("logs one line at exit with what happened after the stop signal", () => {
    const rig = new Rig({ drainMs: 5_000, drainHook: commandHook("notify") });
    drainedRun(rig);
    const lines = rig.log.records.filter((r) => r.message === "timeline");
    expect(lines).toEqual([
      {
        level: "info",
        message: "timeline",
        fields: {
          stop: "TERM",
          hook: "exited(0)",
          hook_ms: 2_000,
          forwarded: "TERM",
          forwarded_ms: 5_000,
          child: "killed(TERM)",
          child_ms: 5_500,
          sigkill_ms: undefined,
          exit_code: 143,
          total_ms: 5_500,
        },
      },
    ]);
  });

  it("writes the timeline as one text line", () => {
    const lines: string[] = [];
    const rig = new Rig(
      { drainMs: 5_000, drainHook: commandHook("notify") },
      { log: createLogger(LogLevel.info, "text", (line) => lines.push(line)) },
    );
    drainedRun(rig);
    expect(lines.filter((l) => l.includes("timeline"))).toEqual([
      "drainit: timeline stop=TERM hook=exited(0) hook_ms=2000 forwarded=TERM forwarded_ms=5000 " +
        "child=killed(TERM) child_ms=5500 exit_code=143 total_ms=5500\n",
    ]);
  });

  it("writes the timeline as one JSON object with --log-format json", () => {
    const lines: string[] = [];
    const rig = new Rig(
      { drainMs: 5_000, drainHook: commandHook("notify") },
      { log: createLogger(LogLevel.info, "json", (line) => lines.push(line)) },
    );
    drainedRun(rig);
    const timeline = lines.map((l) => JSON.parse(l)).filter((o) => o.msg === "timeline");
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatchObject({ level: "info", stop: "TERM", forwarded_ms: 5000, child: "killed(TERM)", exit_code: 143 });
  });

  it("records the SIGKILL and its time", () => {
    const rig = new Rig({ graceMs: 3_000 });
    const pid = rig.start();
    rig.signal("TERM");
    rig.clock.advance(3_000);
    rig.supervisor.receiveSignal(SIGCHLD);
    expect(rig.kernel.process(pid).status).toEqual({ signal: KILL });
    expect(rig.log.find(/^timeline$/)?.fields).toMatchObject({ sigkill_ms: 3_000, child: "killed(KILL)", exit_code: 137 });
  });

  it("logs no timeline when no stop signal came", () => {
    const rig = new Rig();
    const pid = rig.start();
    rig.exits(pid, { code: 0 });
    expect(rig.log.find(/^timeline$/)).toBeUndefined();
    expect(rig.log.find(/^exiting$/)?.level).toBe("debug");
  });
});
