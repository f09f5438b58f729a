// Interactive use in a real pseudo-terminal: drainit as PID 1 leading the terminal's session, as
// under `docker run -it`, in group mode (the default) and single-child mode (-c).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DRAINIT, HELPERS, childrenOf, runInit, runToExit, sleep, waitFor } from "./harness.ts";
import { TmuxPane, descendantsNamed } from "./tmux.ts";
import { parseStat, processState, readStat, type ProcessStat } from "../../src/sys/proc.ts";

const RECORDER = join(HELPERS, "tty-signals.mjs");
const SHELL_ENV = { PS1: "prompt$ ", TERM: "screen" };

const panes: TmuxPane[] = [];
afterEach(() => {
  for (const pane of panes.splice(0)) pane.close();
});

/** drainit as PID 1 of a new PID namespace, leading the session of the pane's terminal (setsid -c). */
function drainitInTerminal(args: string[]): TmuxPane {
  const pane = new TmuxPane(["unshare", "--pid", "--fork", "--mount-proc", "setsid", "-c", DRAINIT, ...args], {
    env: SHELL_ENV,
  });
  panes.push(pane);
  return pane;
}

/** drainit's pid on the host. */
async function drainitPid(pane: TmuxPane): Promise<number> {
  return waitFor(() => descendantsNamed(pane.panePid(), "drainit")[0] ?? null, 10_000, "drainit to start");
}

function statOf(pid: number): ProcessStat {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat;
}

async function waitForProcessNamed(pane: TmuxPane, name: string): Promise<number> {
  return waitFor(() => descendantsNamed(pane.panePid(), name)[0] ?? null, 10_000, `a ${name} process`);
}

async function waitForState(pid: number, wanted: (state: string | null) => boolean, what: string): Promise<void> {
  await waitFor(() => (wanted(processState(pid)) ? true : null), 10_000, what);
}

const modes = [
  { mode: "group mode", flags: [] as string[] },
  { mode: "single-child mode", flags: ["-c"] },
];

describe.each(modes)("in a terminal, $mode", ({ flags }) => {
  it("gives an interactive bash job control", async () => {
    const pane = drainitInTerminal([...flags, "--", "bash", "--norc", "--noprofile", "-i"]);
    await pane.waitForScreen(/prompt\$ $/m);
    pane.line('echo "flags=$-"');
    const [, shellFlags] = await pane.waitForScreen(/^flags=(\w+)$/m);
    expect(shellFlags).toContain("m");
    expect(pane.screen()).not.toMatch(/no job control|cannot set terminal process group/);
    pane.line("exit 7");
    expect(await pane.exitStatus()).toBe(7);
  });

  it("suspends a foreground sleep on Ctrl-Z, resumes it with fg, and Ctrl-C ends it with 130", async () => {
    const pane = drainitInTerminal([...flags, "--", "bash", "--norc", "--noprofile", "-i"]);
    await pane.waitForScreen(/prompt\$ $/m);
    pane.line("sleep 30");
    const sleeper = await waitForProcessNamed(pane, "sleep");
    await waitForState(sleeper, (s) => s === "S", "sleep to be sleeping");

    pane.press("C-z");
    await pane.waitForScreen(/Stopped\s+sleep 30/);
    await waitForState(sleeper, (s) => s === "T", "sleep to be stopped");

    pane.line("fg");
    await waitForState(sleeper, (s) => s === "S", "sleep to run again");
    pane.press("C-c");
    await waitForState(sleeper, (s) => s === null, "sleep to end");
    pane.line('echo "sleep=$?"');
    await pane.waitForScreen(/^sleep=130$/m);
    pane.line("exit");
    expect(await pane.exitStatus()).toBe(0);
  });

  it("ends a foreground cat under bash with 130 on Ctrl-C", async () => {
    const pane = drainitInTerminal([...flags, "--", "bash", "--norc", "--noprofile", "-i"]);
    await pane.waitForScreen(/prompt\$ $/m);
    pane.line("cat");
    const cat = await waitForProcessNamed(pane, "cat");
    pane.press("C-c");
    await waitForState(cat, (s) => s === null, "cat to end");
    // Typed only at the next prompt, as a person would: bash drops what was typed ahead of it.
    await pane.waitForScreen(/prompt\$ cat[\s\S]*prompt\$ $/m);
    pane.line('echo "cat=$?"');
    await pane.waitForScreen(/^cat=130$/m);
    pane.line("exit");
    expect(await pane.exitStatus()).toBe(0);
  });

  it("ends cat as the child with 130 on Ctrl-C", async () => {
    const pane = drainitInTerminal([...flags, "--", "cat"]);
    await waitForProcessNamed(pane, "cat");
    pane.press("C-c");
    expect(await pane.exitStatus()).toBe(130);
  });

  it("delivers Ctrl-C to the child exactly once, from the terminal", async () => {
    const pane = drainitInTerminal([...flags, "--", process.execPath, RECORDER]);
    await pane.waitForScreen(/^recorder ready/m);
    const init = await drainitPid(pane);
    const child = childrenOf(init)[0]!;
    // The child's own group is the terminal's foreground group; drainit is not in it, so the
    // terminal's SIGINT never reaches drainit and there is nothing for it to pass on a second time.
    expect(statOf(child).pgrp).toBe(child);
    expect(statOf(child).tpgid).toBe(child);
    expect(statOf(init).pgrp).not.toBe(child);
    if (flags.includes("-c")) {
      // Same session as drainit, which kept the terminal.
      expect(statOf(child).session).toBe(init);
      expect(statOf(init).tpgid).toBe(child);
    } else {
      // A session of its own that took the terminal over; drainit has none any more.
      expect(statOf(child).session).toBe(child);
      expect(statOf(init).ttyNr).toBe(0);
    }

    pane.press("C-c");
    const [, total] = await pane.waitForScreen(/^SIGINT total (\d+)$/m);
    expect(Number(total)).toBe(1);
    expect(await pane.exitStatus()).toBe(130);
  });

  it("round-trips input through tac", async () => {
    const pane = drainitInTerminal([...flags, "--", "tac"]);
    await waitForProcessNamed(pane, "tac");
    pane.line("first");
    pane.line("second");
    pane.press("C-d");
    await pane.waitForScreen(/^second\nfirst$/m);
    expect(await pane.exitStatus()).toBe(0);
  });

  it("starts the child with no signal blocked or ignored", async () => {
    const pane = drainitInTerminal([...flags, "--", "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]);
    expect(await pane.exitStatus()).toBe(0);
    const screen = pane.screen();
    expect(screen).toMatch(/^SigBlk:\s+0{16}$/m);
    expect(screen).toMatch(/^SigIgn:\s+0{16}$/m);
  });
});

describe("SIGHUP in a terminal", () => {
  it("group mode: the SIGHUP and SIGCONT of giving up the terminal are not forwarded, later ones are", async () => {
    const pane = drainitInTerminal(["-v", "--", process.execPath, RECORDER]);
    await pane.waitForScreen(/^recorder ready/m);
    await pane.waitForScreen(/not forwarded: sent by the kernel as drainit gave up the terminal signal=HUP/);
    await pane.waitForScreen(/not forwarded: sent by the kernel as drainit gave up the terminal signal=CONT/);
    // Give a wrongly forwarded echo time to show.
    await sleep(500);
    expect(pane.screen()).not.toMatch(/got SIG/);

    const init = await drainitPid(pane);
    process.kill(init, "SIGHUP");
    await pane.waitForScreen(/^got SIGHUP #1$/m);
    process.kill(init, "SIGHUP");
    await pane.waitForScreen(/^got SIGHUP #2$/m);
    process.kill(init, "SIGCONT");
    await pane.waitForScreen(/^got SIGCONT #1$/m);

    pane.press("C-c");
    expect(await pane.exitStatus()).toBe(130);
  });

  it("single-child mode: drainit keeps the terminal, and the first SIGHUP is forwarded", async () => {
    const pane = drainitInTerminal(["-c", "-v", "--", process.execPath, RECORDER]);
    await pane.waitForScreen(/^recorder ready/m);
    expect(pane.screen()).not.toMatch(/gave up the terminal/);
    const init = await drainitPid(pane);
    process.kill(init, "SIGHUP");
    await pane.waitForScreen(/^got SIGHUP #1$/m);
    pane.press("C-c");
    expect(await pane.exitStatus()).toBe(130);
  });
});

describe("without a terminal", () => {
  it("leaves the child without one and says nothing about it, even with -v", async () => {
    const result = await runToExit(["-v", "--", "cat", "/proc/self/stat"]);
    expect(result.code).toBe(0);
    expect(parseStat(result.stdout).ttyNr).toBe(0);
    expect(result.stderr).not.toMatch(/terminal|foreground/);
  });

  it("group mode: SIGTSTP stops the child's group (as SIGSTOP) and SIGCONT resumes it", async () => {
    // One process that never forks: its state alone tells stopped from running.
    const run = runInit(["--", "sh", "-c", "echo ready; exec sleep 300"]);
    try {
      await run.waitForOutput(/ready/);
      const init = await run.initPid(15_000);
      const child = await waitFor(() => childrenOf(init)[0] ?? null, 5_000, "the child");
      await run.signal("SIGTSTP");
      await waitForState(child, (s) => s === "T", "the child to stop");
      await run.signal("SIGCONT");
      await waitForState(child, (s) => s !== "T", "the child to run again");
      await run.signal("SIGTERM");
      expect((await run.finished).code).toBe(143);
    } finally {
      run.kill();
    }
  });
});
