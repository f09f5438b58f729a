// What drainit was asked to do, and the parsing of its values (pure).

export type LogFormat = "text" | "json";

/** Log levels, lowest first: a message is written when its level <= the configured verbosity. */
export const LogLevel = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 } as const;
export type LogLevelName = keyof typeof LogLevel;

export type DrainHook =
  | { kind: "command"; argv: string[]; text: string }
  | { kind: "http"; url: string };

export interface ListenAddress {
  host: string;
  port: number;
}

/** `--drain MIN..MAX --drain-until-idle IDLE`: forward once the app's ports were idle for IDLE. */
export interface AdaptiveDrain {
  minMs: number;
  maxMs: number;
  idleMs: number;
  /** Ports to watch; empty: the ports the app listens on, found from its sockets. */
  ports: number[];
}

export interface Config {
  /** The program to run and its arguments. */
  command: string[];
  /** Signals go to the child only, not its process group; leftovers are not terminated. */
  singleChild: boolean;
  rewrites: Map<number, number>;
  subreaper: boolean;
  remapExit: Set<number>;
  pdeathsig: number | null;
  warnOnReap: boolean;
  verbosity: number;
  logFormat: LogFormat;
  stopSignals: Set<number>;
  drainMs: number;
  drainHook: DrainHook | null;
  hookTimeoutMs: number;
  drainFile: string | null;
  health: ListenAddress | null;
  healthUpstream: string | null;
  graceMs: number | null;
  budgetMs: number | null;
  /** When set, the drain ends early once traffic stops (drainMs is then its minimum). */
  adaptiveDrain?: AdaptiveDrain | null;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 30_000;

export class UsageError extends Error {}

/**
 * The longest duration any option accepts: 365 days. The clock honours every duration up to it
 * exactly (sys/clock.ts chains timers); a longer one is refused at start rather than silently shortened.
 */
export const MAX_DURATION_MS = 365 * 24 * 3600 * 1000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Duration units, by every name they may be written with (case does not matter). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: SECOND, sec: SECOND, secs: SECOND, second: SECOND, seconds: SECOND,
  m: MINUTE, min: MINUTE, mins: MINUTE, minute: MINUTE, minutes: MINUTE,
  h: HOUR, hr: HOUR, hrs: HOUR, hour: HOUR, hours: HOUR,
  d: DAY, day: DAY, days: DAY,
  w: 7 * DAY, week: 7 * DAY, weeks: 7 * DAY,
  // Always above the maximum; known so that the error says so rather than "not a duration".
  y: 365.25 * DAY, yr: 365.25 * DAY, yrs: 365.25 * DAY, year: 365.25 * DAY, years: 365.25 * DAY,
};

/** `500ms`, `5s`, `2m`, `1.5h`, `1d` or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, option: string): number {
  const trimmed = String(text).trim();
  const match = /^(\d+(?:\.\d+)?) *([a-z]*)$/i.exec(trimmed);
  const unit = match ? (match[2] === "" ? SECOND : UNIT_MS[match[2]!.toLowerCase()]) : undefined;
  const value = match && unit !== undefined ? Number(match[1]) * unit : undefined;
  if (value === undefined || !Number.isFinite(value)) {
    throw new UsageError(`${option}: '${text}' is not a duration (try 500ms, 5s, 2m or a number of seconds)`);
  }
  if (value > MAX_DURATION_MS) {
    throw new UsageError(`${option}: '${text}' is longer than the maximum, ${MAX_DURATION_MS / DAY}d`);
  }
  return Math.round(value);
}

/** `MIN..MAX` → both in milliseconds; MIN must not exceed MAX. */
export function parseDurationRange(text: string, option: string): { minMs: number; maxMs: number } {
  const parts = String(text).split("..");
  if (parts.length !== 2) throw new UsageError(`${option}: '${text}' is not MIN..MAX (e.g. 2s..60s)`);
  const minMs = parseDuration(parts[0]!, option);
  const maxMs = parseDuration(parts[1]!, option);
  if (minMs > maxMs) throw new UsageError(`${option}: '${text}': MIN is larger than MAX`);
  return { minMs, maxMs };
}

export function parsePort(text: string, option: string): number {
  const port = Number(text.trim());
  if (!/^\d{1,5}$/.test(text.trim()) || port < 1 || port > 65535) {
    throw new UsageError(`${option}: '${text}' is not a port (1-65535)`);
  }
  return port;
}

/** `ADDR:PORT`, `[::1]:PORT` or `:PORT` (all addresses). */
export function parseListenAddress(text: string, option: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UsageError(`${option}: '${text}' is not ADDR:PORT (e.g. 0.0.0.0:8086)`);
  }
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

export function parseHttpUrl(text: string, option: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${option}: '${text}' is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${option}: '${text}' is not an http(s) URL`);
  }
  return url.toString();
}
