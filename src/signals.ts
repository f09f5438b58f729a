// Signal names and numbers (Linux, x86_64 and arm64 share these), and the rewrite table.

export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26,
  PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

const SIGNAL_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(SIGNALS).map(([name, num]) => [num, name]),
);

/** Highest signal number the kernel accepts (real-time signals included). */
const MAX_SIGNAL = 64;

/**
 * The signals drainit listens to and forwards. The runtime cannot listen to
 * PWR (its garbage collector uses it) nor to real-time signals, and KILL/STOP
 * cannot be caught at all; fault signals (SEGV, BUS, ILL, FPE, ABRT) are about
 * drainit itself, not requests to pass on.
 */
export const FORWARDED_SIGNALS: readonly number[] = [
  "HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM", "CONT", "TSTP", "TTIN",
  "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS", "TRAP",
].map((name) => SIGNALS[name]!);

export const SIGCHLD = SIGNALS.CHLD!;
export const SIGTERM = SIGNALS.TERM!;
export const SIGKILL = SIGNALS.KILL!;
export const SIGSTOP = SIGNALS.STOP!;
export const SIGHUP = SIGNALS.HUP!;
export const SIGCONT = SIGNALS.CONT!;
/** Terminal stop signals: a process group cannot be suspended by them once it is orphaned. */
export const TERMINAL_STOP_SIGNALS: readonly number[] = [SIGNALS.TSTP!, SIGNALS.TTIN!, SIGNALS.TTOU!];

export class SignalError extends Error {}

/** `TERM`, `SIGTERM`, `sigterm`, `15` → 15. `0` is accepted only when allowZero. */
export function parseSignal(text: string, { allowZero = false } = {}): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const num = Number(trimmed);
    if ((num === 0 && allowZero) || (num >= 1 && num <= MAX_SIGNAL)) return num;
    throw new SignalError(`not a signal number: '${text}' (1-${MAX_SIGNAL})`);
  }
  const name = trimmed.toUpperCase().replace(/^SIG/, "");
  const num = SIGNALS[name];
  if (num === undefined) throw new SignalError(`unknown signal '${text}'`);
  return num;
}

export function signalName(num: number): string {
  return SIGNAL_NAMES[num] ?? String(num);
}

/** Maps an incoming signal to the one to forward; 0 means drop it. */
export type RewriteTable = ReadonlyMap<number, number>;

/** Parses `FROM:TO` pairs (names or numbers; TO may be 0). Later pairs win. */
export function parseRewrites(pairs: readonly string[]): Map<number, number> {
  const table = new Map<number, number>();
  for (const pair of pairs) {
    const parts = pair.split(":");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new SignalError(`--rewrite takes FROM:TO, got '${pair}'`);
    }
    table.set(parseSignal(parts[0]), parseSignal(parts[1], { allowZero: true }));
  }
  return table;
}

export function rewriteSignal(table: RewriteTable, sig: number): number {
  return table.get(sig) ?? sig;
}
