// What drainit does with the terminal on its stdin (pure): hand it to the child's new session, or make
// the child the terminal's foreground group, and recognise the signals the hand-over itself causes.
import { SIGCONT, SIGHUP } from "../signals.ts";
import type { TerminalInfo } from "../sys/kernel.ts";

export type TerminalPlan =
  /** stdin is no terminal: nothing to do, nothing to say. */
  | { kind: "none" }
  /**
   * Group mode, drainit leads the terminal's session (as under `docker run -t`): give it up
   * (TIOCNOTTY) before the spawn, and let the child's new session acquire it by opening `path`.
   * `echoExpected`: drainit is in the foreground group, so the kernel sends it SIGHUP and SIGCONT.
   */
  | { kind: "hand-over"; path: string; echoExpected: boolean }
  /** Single-child mode: after the spawn, the child's own group becomes the foreground group. */
  | { kind: "foreground" }
  /** A terminal drainit can do nothing useful with; `why` goes to the debug log. */
  | { kind: "leave"; why: string };

export function planTerminal(terminal: TerminalInfo | null, singleChild: boolean): TerminalPlan {
  if (!terminal) return { kind: "none" };
  if (singleChild) {
    // tcsetpgrp from a background group would earn drainit a SIGTTOU, and the foreground is
    // not drainit's to give away then.
    if (!terminal.inForeground) return { kind: "leave", why: "drainit is not in the terminal's foreground group" };
    return { kind: "foreground" };
  }
  if (!terminal.leadsSession) {
    // Only the session leader can release the terminal for another session; taking it by force
    // (TIOCSCTTY with 1) would rob whoever started drainit.
    return { kind: "leave", why: "drainit does not lead the terminal's session; the child's session starts without it" };
  }
  if (terminal.path === null) return { kind: "leave", why: "the terminal cannot be opened again by path" };
  return { kind: "hand-over", path: terminal.path, echoExpected: terminal.inForeground };
}

/**
 * How long the detach echo is waited for. The kernel sends it during the TIOCNOTTY call itself,
 * so it is already pending when drainit's listeners next run; the window only matters if the
 * echo somehow never comes, and then bounds how long a genuine SIGHUP could be mistaken for it.
 */
export const DETACH_ECHO_WINDOW_MS = 1_000;

/**
 * The SIGHUP and SIGCONT the kernel sends the foreground group when its session leader gives up
 * the terminal (TIOCNOTTY). Forwarded, the SIGHUP would end the child that was just handed the
 * terminal. Each is absorbed once, and only while expected: armed only when drainit detached
 * while in the foreground group (so the kernel did send them to it), disarmed by their arrival
 * or by the window's end. A SIGHUP sent later on purpose is never taken for the echo.
 */
export class DetachEcho {
  private readonly awaited = new Set<number>();

  expect(): void {
    this.awaited.add(SIGHUP);
    this.awaited.add(SIGCONT);
  }

  /** True when `signal` is the echo of the detach and must not be forwarded. */
  absorbs(signal: number): boolean {
    return this.awaited.delete(signal);
  }

  /** The window is over: whatever comes from now on is meant for the child. */
  forget(): void {
    this.awaited.clear();
  }

  get pending(): boolean {
    return this.awaited.size > 0;
  }
}
