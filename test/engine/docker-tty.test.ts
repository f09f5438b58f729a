// `docker run -it` with drainit as the ENTRYPOINT and an interactive shell as its child, in a real
// terminal (tmux): job control works in the shell, Ctrl-C reaches the foreground job once, Ctrl-Z
// and fg work, and the shell's exit code is docker run's.
import { afterEach, describe, expect, it } from "vitest";
import { TmuxPane } from "../e2e/tmux.ts";
import { docker, useEngine } from "./engine.ts";

const engine = useEngine(() => docker("docker"));

const panes: TmuxPane[] = [];
afterEach(() => {
  for (const pane of panes.splice(0)) pane.close();
});

/** Lines of the screen that are `line`, after the terminal's echo of ^C (the typed command does not count). */
function linesEqual(text: string, line: string): number {
  return text.split("\n").filter((l) => l.trimEnd().replace(/^\^C/, "") === line).length;
}

describe("docker run -it", () => {
  it("job control, Ctrl-C once, Ctrl-Z and fg, and the exit code", async () => {
    const name = engine().containerName("tty");
    const { argv, env } = engine().argv(engine().runArgs(name, ["-it", "drainit-test/drainit", "--", "sh"]));
    const pane = new TmuxPane(argv, { env });
    panes.push(pane);
    await pane.waitForScreen(/# $/m, 30_000);

    // Ctrl-C: the foreground job gets one SIGINT (from the terminal), not a second one from PID 1.
    pane.line(`sh -c 'trap "echo got-int; exit 5" INT; while :; do sleep 1; done'`);
    await pane.waitForScreen(/while :; do sleep 1; done'\n/);
    pane.press("C-c");
    await pane.waitForScreen(/^(\^C)?got-int$/m);
    pane.line("echo status=$?");
    await pane.waitForScreen(/status=5/);
    expect(linesEqual(pane.screen(), "got-int")).toBe(1);

    // Ctrl-Z stops the foreground job, the shell takes the terminal back; fg resumes it.
    pane.line("sleep 300");
    await pane.waitForScreen(/sleep 300\n/);
    pane.press("C-z");
    await pane.waitForScreen(/Stopped/);
    pane.line("jobs");
    await pane.waitForScreen(/\[1\]\+?\s+Stopped.*sleep 300[^]*# $/m);
    pane.line("fg");
    await pane.waitForScreen(/fg\nsleep 300\n/);
    pane.press("C-c");
    pane.line("echo fg-status=$?");
    await pane.waitForScreen(/fg-status=130/);

    pane.line("exit 42");
    expect(await pane.exitStatus(30_000)).toBe(42);
    expect(await engine().exitCode(name)).toBe(42);
  }, 90_000);
});
