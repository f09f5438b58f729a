// A real pseudo-terminal for the tests: one private tmux server per pane, driven by keys, read by screen.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childrenOf, waitFor } from "./harness.ts";

/** Words for a POSIX shell: each in single quotes, a quote inside written as '\''. */
function quote(words: readonly string[]): string {
  return words.map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(" ");
}

let panes = 0;

export interface PaneOptions {
  env?: Record<string, string>;
}

/**
 * Runs `argv` as the only process of a tmux pane (the pane's terminal is its controlling terminal).
 * Each pane has its own server socket, so closing it never touches anyone else's tmux.
 */
export class TmuxPane {
  private readonly socket = `drainit-tty-${process.pid}-${++panes}`;
  private readonly dir = mkdtempSync(join(tmpdir(), "drainit-tmux-"));
  private readonly statusFile = join(this.dir, "status");
  private closed = false;

  constructor(argv: string[], options: PaneOptions = {}) {
    const config = join(this.dir, "tmux.conf");
    writeFileSync(
      config,
      [
        "set -g default-shell /bin/sh",
        "set -g default-terminal screen",
        // The pane stays after its process exits, so the exit status can be read.
        "set -g remain-on-exit on",
        "set -g history-limit 5000",
        "",
      ].join("\n"),
    );
    // tmux now and then leaves an exited pane process unreaped for seconds; a file tells the status at once.
    const command = `${quote(argv)}; echo "$?" > ${quote([this.statusFile])}`;
    this.tmux(["-f", config, "new-session", "-d", "-x", "200", "-y", "50", "-s", "t", command], {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: this.dir,
      ...options.env,
    });
  }

  /** Types text as it is (no key names). */
  type(text: string): void {
    this.tmux(["send-keys", "-t", "t", "-l", text]);
  }

  /** Presses keys by tmux name: "Enter", "C-c", "C-z", "C-d". */
  press(...keys: string[]): void {
    this.tmux(["send-keys", "-t", "t", ...keys]);
  }

  /** Types a line and presses Enter. */
  line(text: string): void {
    this.type(text);
    this.press("Enter");
  }

  /** The whole screen and its scrollback, wrapped lines joined. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-5000", "-t", "t"]);
  }

  async waitForScreen(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return waitFor(() => pattern.exec(this.screen()), timeoutMs, `the screen to match ${pattern}`).catch(
      (error: Error) => {
        throw new Error(`${error.message}; screen:\n${this.screen()}`);
      },
    );
  }

  /** The exit status of the pane's process once it has exited. */
  async exitStatus(timeoutMs = 15_000): Promise<number> {
    return waitFor(
      () => {
        try {
          const status = readFileSync(this.statusFile, "utf8");
          return status.endsWith("\n") ? Number(status) : null;
        } catch {
          return null;
        }
      },
      timeoutMs,
      "the pane's process to exit",
    ).catch((error: Error) => {
      throw new Error(`${error.message}; screen:\n${this.screen()}`);
    });
  }

  /** The pid of the pane's process (a shell that runs the command and notes its status), as the host sees it. */
  panePid(): number {
    return Number(this.tmux(["display-message", "-p", "-t", "t", "#{pane_pid}"]).trim());
  }

  /** Ends this pane's processes (by pid) and its tmux server. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      const pending = [this.panePid()];
      const all: number[] = [];
      while (pending.length) {
        const pid = pending.pop()!;
        if (!pid) continue;
        all.push(pid);
        pending.push(...childrenOf(pid));
      }
      for (const pid of all.reverse()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    } catch {
      // the server is gone already
    }
    try {
      this.tmux(["kill-server"]);
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], {
      encoding: "utf8",
      // The server's socket lives in this pane's own directory, removed with it.
      env: { ...(env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" }), TMUX_TMPDIR: this.dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }
}

/** Every descendant of `pid` whose command name is `name`. */
export function descendantsNamed(pid: number, name: string): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length) {
    const next = pending.pop()!;
    for (const child of childrenOf(next)) {
      pending.push(child);
      try {
        if (readFileSync(`/proc/${child}/comm`, "utf8").trim() === name) found.push(child);
      } catch {
        // exited meanwhile
      }
    }
  }
  return found;
}
