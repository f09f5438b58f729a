// Signal names and numbers (Linux, x86_64 and arm64 share these), and the rewrite table.

export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26,
  PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

/** Highest signal number the kernel accepts (real-time signals included). */
const MAX_SIGNAL = 64;
/** The first real-time signal an application may use: glibc keeps 32 and 33 for its threads. */
const SIGRTMIN = 34;
const SIGRTMAX = MAX_SIGNAL;

/** Old names `kill` still accepts for a signal that has a newer one. */
const ALIASES: Readonly<Record<string, number>> = { IOT: 6, CLD: 17, POLL: 29 };

/** Real-time signals as `kill -l` names them: RTMIN, RTMIN+1 … RTMIN+15, RTMAX-14 … RTMAX-1, RTMAX. */
function realTimeName(num: number): string {
  if (num === SIGRTMIN) return "RTMIN";
  if (num === SIGRTMAX) return "RTMAX";
  const fromMin = num - SIGRTMIN;
  const toMax = SIGRTMAX - num;
  return fromMin <= toMax ? `RTMIN+${fromMin}` : `RTMAX-${toMax}`;
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = Object.fromEntries([
  ...Object.entries(SIGNALS).map(([name, num]) => [num, name]),
  ...Array.from({ length: SIGRTMAX - SIGRTMIN + 1 }, (_, i) => [SIGRTMIN + i, realTimeName(SIGRTMIN + i)]),
]);

/**
 * The signals drainit forwards: every one but KILL and STOP (which cannot be caught), 32 and
 * 33 (glibc's own, never sent to a process from outside) and CHLD (drainit reaps on it).
 * Kill-sent SEGV, BUS, ILL, FPE, ABRT and TRAP are forwarded too; a genuine fault of drainit's
 * own is not a signal anybody sent (see src/sys/signal-handler.c).
 */
export const FORWARDED_SIGNALS: readonly number[] = Array.from({ length: MAX_SIGNAL }, (_, i) => i + 1).filter(
  (num) => ![SIGNALS.KILL, SIGNALS.STOP, SIGNALS.CHLD, 32, 33].includes(num),
);

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
  const num = SIGNALS[name] ?? ALIASES[name] ?? realTimeNumber(name);
  if (num === undefined) throw new SignalError(`unknown signal '${text}'`);
  return num;
}

/** RTMIN, RTMIN+N, RTMAX, RTMAX-N (as `kill -l` spells them) → 34-64; anything else → undefined. */
function realTimeNumber(name: string): number | undefined {
  const match = /^RT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
  if (!match) return undefined;
  const [, end, sign, offset] = match;
  if (sign && sign !== (end === "MIN" ? "+" : "-")) return undefined;
  const num = end === "MIN" ? SIGRTMIN + Number(offset ?? 0) : SIGRTMAX - Number(offset ?? 0);
  return num >= SIGRTMIN && num <= SIGRTMAX ? num : undefined;
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
