import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../src/cli/cli.ts";

import type { Config } from "../../src/config.ts";
import { SIGNALS } from "../../src/signals.ts";
import { Supervisor } from "../../src/supervisor/supervisor.ts";
import type { SpawnRequest, SpawnResult, TerminalInfo } from "../../src/sys/kernel.ts";
import { DETACH_ECHO_WINDOW_MS, DetachEcho, planTerminal } from "../../src/supervisor/terminal.ts";
import { FakeClock, FakeEffects, FakeKernel, RecordingLogger, baseConfig } from "./fakes.ts";

const sig = (name: string): number => SIGNALS[name]!;
const [HUP, CONT, INT, TSTP, STOP] = ["HUP", "CONT", "INT", "TSTP", "STOP"].map(sig) as [
  number, number, number, number, number,
];

const LEADER_IN_FOREGROUND: TerminalInfo = { path: "/dev/pts/0", leadsSession: true, inForeground: true };

/** A fake kernel with a terminal on stdin; it notes the order of the terminal calls and spawns. */
class TerminalKernel extends FakeKernel {
  readonly events: string[] = [];
  detachFails = false;

  constructor(private readonly terminal: TerminalInfo | null) {
    super(1);
  }

  override terminalOf(fd: number): TerminalInfo | null {
    this.events.push(`terminalOf(${fd})`);
    return this.terminal;
  }

  override detachTerminal(fd: number): void {
    this.events.push(`detach(${fd})`);
    if (this.detachFails) throw new Error("cannot give up the terminal: Inappropriate ioctl for device");
  }

  override setForegroundGroup(fd: number, pgid: number): void {
    this.events.push(`foreground(${fd}, ${pgid})`);
  }

  override spawn(request: SpawnRequest): SpawnResult {
    const result = super.spawn(request);
    this.events.push(`spawn(${result.pid})`);
    return result;
  }
}

function rig(terminal: TerminalInfo | null, overrides: Partial<Config> = {}, setUp?: (kernel: TerminalKernel) => void) {
  const kernel = new TerminalKernel(terminal);
  setUp?.(kernel);
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const config = baseConfig(overrides);
  const supervisor = new Supervisor({
    config,
    launch: { argv: config.command },
    kernel,
    clock,
    log,
    effects: new FakeEffects(),
  });
  supervisor.start();
  const pid = supervisor.pid;
  /** Real signals sent (existence checks left out), as "pid:SIGNAL". */
  const sent = () =>
    kernel.signalsSent.map((k) => `${k.pid}:${Object.keys(SIGNALS).find((n) => SIGNALS[n] === k.signal)}`);
  return { kernel, clock, log, supervisor, pid, sent };
}

describe("planTerminal", () => {
  it("does nothing without a terminal, in either mode", () => {
    expect(planTerminal(null, false)).toEqual({ kind: "none" });
    expect(planTerminal(null, true)).toEqual({ kind: "none" });
  });

  it("group mode: the session leader hands the terminal over, expecting the echo only from the foreground", () => {
    expect(planTerminal(LEADER_IN_FOREGROUND, false)).toEqual({
      kind: "hand-over",
      path: "/dev/pts/0",
      echoExpected: true,
    });
    expect(planTerminal({ ...LEADER_IN_FOREGROUND, inForeground: false }, false)).toEqual({
      kind: "hand-over",
      path: "/dev/pts/0",
      echoExpected: false,
    });
  });

  it("group mode: leaves a terminal drainit does not lead, or cannot reopen", () => {
    expect(planTerminal({ ...LEADER_IN_FOREGROUND, leadsSession: false }, false).kind).toBe("leave");
    expect(planTerminal({ ...LEADER_IN_FOREGROUND, path: null }, false).kind).toBe("leave");
  });

  it("single-child mode: gives the child the foreground only when drainit has it", () => {
    expect(planTerminal(LEADER_IN_FOREGROUND, true)).toEqual({ kind: "foreground" });
    expect(planTerminal({ ...LEADER_IN_FOREGROUND, leadsSession: false }, true)).toEqual({ kind: "foreground" });
    expect(planTerminal({ ...LEADER_IN_FOREGROUND, inForeground: false }, true).kind).toBe("leave");
  });
});

describe("DetachEcho", () => {
  it("absorbs nothing until the detach is expected", () => {
    const echo = new DetachEcho();
    expect(echo.absorbs(HUP)).toBe(false);
    expect(echo.absorbs(CONT)).toBe(false);
    expect(echo.pending).toBe(false);
  });

  it("absorbs exactly one SIGHUP and one SIGCONT, and nothing else", () => {
    const echo = new DetachEcho();
    echo.expect();
    expect(echo.absorbs(INT)).toBe(false);
    expect(echo.absorbs(HUP)).toBe(true);
    expect(echo.pending).toBe(true);
    expect(echo.absorbs(HUP)).toBe(false);
    expect(echo.absorbs(CONT)).toBe(true);
    expect(echo.absorbs(CONT)).toBe(false);
    expect(echo.pending).toBe(false);
  });

  it("absorbs nothing once forgotten", () => {
    const echo = new DetachEcho();
    echo.expect();
    echo.forget();
    expect(echo.absorbs(HUP)).toBe(false);
    expect(echo.absorbs(CONT)).toBe(false);
  });
});

describe("the supervisor, group mode, with a terminal it leads", () => {
  it("gives the terminal up before the spawn and has the child's new session open it", () => {
    const { kernel } = rig(LEADER_IN_FOREGROUND);
    expect(kernel.events).toEqual(["terminalOf(0)", "detach(0)", "spawn(100)"]);
    expect(kernel.spawns[0]).toMatchObject({ isolation: "session", terminal: "/dev/pts/0" });
  });

  it("does not forward the first SIGHUP and SIGCONT, but forwards later ones", () => {
    const { supervisor, pid, sent, log } = rig(LEADER_IN_FOREGROUND);
    supervisor.receiveSignal(CONT);
    supervisor.receiveSignal(HUP);
    expect(sent()).toEqual([]);
    expect(log.find(/gave up the terminal/)).toBeDefined();
    expect(log.records.filter((r) => /not forwarded/.test(r.message)).map((r) => r.fields?.signal)).toEqual([
      "CONT",
      "HUP",
    ]);
    supervisor.receiveSignal(HUP);
    supervisor.receiveSignal(CONT);
    expect(sent()).toEqual([`-${pid}:HUP`, `-${pid}:CONT`]);
  });

  it("forwards a SIGHUP that comes after the echo window, even if the echo never came", () => {
    const { supervisor, clock, pid, sent } = rig(LEADER_IN_FOREGROUND);
    clock.advance(DETACH_ECHO_WINDOW_MS);
    supervisor.receiveSignal(HUP);
    expect(sent()).toEqual([`-${pid}:HUP`]);
  });

  it("keeps no timer once both echoes came", () => {
    const { supervisor, clock } = rig(LEADER_IN_FOREGROUND);
    const withWindow = clock.pendingTimers;
    supervisor.receiveSignal(HUP);
    supervisor.receiveSignal(CONT);
    expect(clock.pendingTimers).toBe(withWindow - 1);
  });

  it("does not take the echo for a stop signal", () => {
    const { supervisor, pid, sent } = rig(LEADER_IN_FOREGROUND, { stopSignals: new Set([HUP]) });
    supervisor.receiveSignal(HUP);
    expect(supervisor.state).toBe("running");
    supervisor.receiveSignal(HUP);
    expect(supervisor.state).toBe("stopping");
    expect(sent()).toEqual([`-${pid}:HUP`]);
  });

  it("expects no echo when drainit was not in the foreground group (the kernel sent it elsewhere)", () => {
    const { supervisor, pid, sent } = rig({ ...LEADER_IN_FOREGROUND, inForeground: false });
    supervisor.receiveSignal(HUP);
    expect(sent()).toEqual([`-${pid}:HUP`]);
  });

  it("warns and starts the child without the terminal when TIOCNOTTY fails", () => {
    const { kernel, supervisor, log, pid, sent } = rig(LEADER_IN_FOREGROUND, {}, (k) => (k.detachFails = true));
    expect(kernel.spawns[0]!.terminal).toBeUndefined();
    expect(log.ofLevel("warn").map((r) => r.message)).toEqual([
      "could not hand the terminal to the child: cannot give up the terminal: Inappropriate ioctl for device",
    ]);
    supervisor.receiveSignal(HUP);
    expect(sent()).toEqual([`-${pid}:HUP`]);
  });

  it("stops the group with SIGSTOP on SIGTSTP by default (the group cannot be stopped by TSTP)", () => {
    const invocation = parseCommandLine(["app"], {}, "drainit");
    if (invocation.kind !== "run") throw new Error("expected a run");
    expect(invocation.config.rewrites.get(TSTP)).toBe(STOP);
    const { supervisor, pid, sent } = rig(null, { rewrites: invocation.config.rewrites });
    supervisor.receiveSignal(TSTP);
    supervisor.receiveSignal(CONT);
    expect(sent()).toEqual([`-${pid}:STOP`, `-${pid}:CONT`]);
  });
});

describe("the supervisor, group mode, with a terminal it does not lead", () => {
  it("leaves the terminal alone and says why at debug level only", () => {
    const { kernel, log, supervisor, pid, sent } = rig({ ...LEADER_IN_FOREGROUND, leadsSession: false });
    expect(kernel.events).toEqual(["terminalOf(0)", "spawn(100)"]);
    expect(kernel.spawns[0]!.terminal).toBeUndefined();
    const mentions = log.records.filter((r) => /terminal/.test(r.message));
    expect(mentions.map((r) => r.level)).toEqual(["debug"]);
    supervisor.receiveSignal(HUP);
    expect(sent()).toEqual([`-${pid}:HUP`]);
  });
});

describe("the supervisor, single-child mode, with a terminal", () => {
  it("makes the child's group the foreground group after the spawn, and wakes it in case it stopped", () => {
    const { kernel, pid, sent } = rig(LEADER_IN_FOREGROUND, { singleChild: true });
    expect(kernel.events).toEqual(["terminalOf(0)", "spawn(100)", "foreground(0, 100)"]);
    expect(kernel.spawns[0]).toMatchObject({ isolation: "group" });
    expect(kernel.spawns[0]!.terminal).toBeUndefined();
    expect(sent()).toEqual([`-${pid}:CONT`]);
  });

  it("forwards the first SIGHUP: nothing was detached", () => {
    const { supervisor, pid, sent } = rig(LEADER_IN_FOREGROUND, { singleChild: true });
    supervisor.receiveSignal(HUP);
    expect(sent()).toEqual([`-${pid}:CONT`, `${pid}:HUP`]);
  });

  it("does not take the foreground when drainit runs in the background", () => {
    const { kernel, sent } = rig({ ...LEADER_IN_FOREGROUND, inForeground: false }, { singleChild: true });
    expect(kernel.events).toEqual(["terminalOf(0)", "spawn(100)"]);
    expect(sent()).toEqual([]);
  });

  it("does not rewrite SIGTSTP: the child's group can be stopped by it", () => {
    const invocation = parseCommandLine(["-c", "app"], {}, "drainit");
    if (invocation.kind !== "run") throw new Error("expected a run");
    expect(invocation.config.rewrites.has(TSTP)).toBe(false);
  });
});

describe("the supervisor without a terminal", () => {
  it("does nothing about terminals and logs nothing about them", () => {
    for (const singleChild of [false, true]) {
      const { kernel, log, supervisor, pid, sent } = rig(null, { singleChild });
      expect(kernel.events).toEqual(["terminalOf(0)", "spawn(100)"]);
      expect(kernel.spawns[0]!.terminal).toBeUndefined();
      expect(log.records.filter((r) => /terminal|foreground/.test(r.message))).toEqual([]);
      supervisor.receiveSignal(HUP);
      expect(sent()).toEqual([singleChild ? `${pid}:HUP` : `-${pid}:HUP`]);
    }
  });
});
