// The one table of drainit's options. The parser, the --help text, the environment reading,
// the personalities' flag sets and the unknown-variable warning are all derived from it.
import {
  DEFAULT_HOOK_TIMEOUT_MS,
  UsageError,
  parseDuration,
  parseHttpUrl,
  parseListenAddress,
  parsePort,
  type LogFormat,
} from "../config.ts";
import { SignalError, parseSignal } from "../signals.ts";
import { parseDrainHook } from "./drain-hook.ts";
import { parsePlatformName } from "./platforms.ts";

/** Which tool drainit stands in for, from the name it was invoked by (see personalities.ts). */
export type Personality = "drainit" | "dumb-init" | "tini" | "catatonit";
export const PERSONALITIES: readonly Personality[] = ["drainit", "dumb-init", "tini", "catatonit"];

/**
 * flag: on or off; count: each use adds one (-vvv); value: takes one, the last one given wins;
 * repeatable: takes one, every one given counts (a comma-separated list in the variable).
 */
type OptionKind = "flag" | "count" | "value" | "repeatable";

/** Where an option's line goes in --help. */
export type Section = "process" | "drain" | "output" | "utility" | "request" | "peer";

/**
 * Every value parser gets the text and where it came from: `--drain` on the command line, or
 * `DRAINIT_DRAIN` from the environment, so that its error names what the user wrote.
 */
type ValueParser<T> = (text: string, from: string) => T;

export interface OptionSpec {
  readonly short: string | null;
  readonly kind: OptionKind;
  /** The DRAINIT_* variable read when the command line does not give the option; null: none. */
  readonly env: `DRAINIT_${string}` | null;
  /** The value's name in --help (DUR, SIG, ...), for value and repeatable options. */
  readonly metavar: string | null;
  /** The value assumed when neither the command line nor the variable gives one (shown in --help). */
  readonly default: string | null;
  readonly parse: ValueParser<unknown> | null;
  readonly help: string;
  readonly section: Section;
  readonly personalities: readonly Personality[];
  /** A peer's flag that has a short name only: no `--` spelling is accepted for it. */
  readonly shortOnly?: true;
}

/** An error that comes from a variable is prefixed with it; one from the command line stays as it was. */
function fromSignalError<T>(from: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof SignalError)) throw error;
    throw new UsageError(from.startsWith("DRAINIT_") ? `${from}: ${error.message}` : error.message);
  }
}

const signalValue: ValueParser<number> = (text, from) => fromSignalError(from, () => parseSignal(text));

/** `FROM:TO`, names or numbers; TO may be 0 (drop the signal). */
const rewriteValue: ValueParser<[number, number]> = (text, from) => {
  const parts = text.split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new UsageError(`${from} takes FROM:TO, got '${text}'`);
  return fromSignalError(from, () => [parseSignal(parts[0]!), parseSignal(parts[1]!, { allowZero: true })]);
};

const exitCodeValue: ValueParser<number> = (text, from) => {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 255) throw new UsageError(`${from}: '${text}' is not an exit code (0-255)`);
  return Number(text);
};

const logFormatValue: ValueParser<LogFormat> = (text, from) => {
  if (text !== "text" && text !== "json") throw new UsageError(`${from}: '${text}' is not text or json`);
  return text;
};

const pathValue: ValueParser<string> = (text, from) => {
  if (text === "") throw new UsageError(`${from}: empty path`);
  return text;
};

const ALL = PERSONALITIES;

export const OPTIONS = {
  // --- the PID-1 core, flag-compatible with dumb-init and tini ---
  "single-child": {
    short: "c", kind: "flag", env: "DRAINIT_SINGLE_CHILD", metavar: null, default: null, parse: null,
    help: "signal the child only, not its process group", section: "process", personalities: ALL,
  },
  group: {
    short: "g", kind: "flag", env: "DRAINIT_GROUP", metavar: null, default: null, parse: null,
    help: "signal the child's process group (drainit's and dumb-init's default)", section: "process", personalities: ALL,
  },
  rewrite: {
    short: "r", kind: "repeatable", env: "DRAINIT_REWRITE", metavar: "FROM:TO", default: null, parse: rewriteValue,
    help: "rewrite a signal before forwarding it (TO=0 drops it); repeatable", section: "process", personalities: ALL,
  },
  subreaper: {
    short: "s", kind: "flag", env: "DRAINIT_SUBREAPER", metavar: null, default: null, parse: null,
    help: "become a child subreaper (automatic when not PID 1)", section: "process", personalities: ALL,
  },
  "remap-exit": {
    short: "e", kind: "repeatable", env: "DRAINIT_REMAP_EXIT", metavar: "CODE", default: null, parse: exitCodeValue,
    help: "exit 0 when the child exits with CODE; repeatable", section: "process", personalities: ALL,
  },
  pdeathsig: {
    short: "p", kind: "value", env: "DRAINIT_PDEATHSIG", metavar: "SIG", default: null, parse: signalValue,
    help: "signal to receive when drainit's parent dies", section: "process", personalities: ALL,
  },
  "warn-on-reap": {
    short: "w", kind: "flag", env: "DRAINIT_WARN_ON_REAP", metavar: null, default: null, parse: null,
    help: "log each zombie reaped that was not the child", section: "process", personalities: ALL,
  },

  // --- the drain sequence ---
  "stop-signal": {
    short: null, kind: "repeatable", env: "DRAINIT_STOP_SIGNAL", metavar: "SIG", default: "TERM", parse: signalValue,
    help: "signal that starts the drain; repeatable", section: "drain", personalities: ALL,
  },
  "drain-file": {
    short: null, kind: "value", env: "DRAINIT_DRAIN_FILE", metavar: "PATH", default: null, parse: pathValue,
    help: "create PATH when draining starts, remove it at exit", section: "drain", personalities: ALL,
  },
  health: {
    short: null, kind: "value", env: "DRAINIT_HEALTH", metavar: "ADDR:PORT", default: null, parse: parseListenAddress,
    help: "serve /readyz (503 from the stop signal on), /livez (200 while the app lives) and /healthz (as /readyz)", section: "drain", personalities: ALL,
  },
  "health-upstream": {
    short: null, kind: "value", env: "DRAINIT_HEALTH_UPSTREAM", metavar: "URL", default: null, parse: parseHttpUrl,
    help: "while running, answer what the app's health URL answers", section: "drain", personalities: ALL,
  },
  "drain-hook": {
    short: null, kind: "value", env: "DRAINIT_DRAIN_HOOK", metavar: "CMD|URL", default: null, parse: parseDrainHook,
    help: "run a command (shell words, no shell) or POST to a URL", section: "drain", personalities: ALL,
  },
  "hook-timeout": {
    short: null, kind: "value", env: "DRAINIT_HOOK_TIMEOUT", metavar: "DUR", default: `${DEFAULT_HOOK_TIMEOUT_MS / 1000}s`,
    parse: parseDuration, help: "cap on the hook", section: "drain", personalities: ALL,
  },
  // A duration, or MIN..MAX with --drain-until-idle: read together with it in build-config.ts.
  drain: {
    short: null, kind: "value", env: "DRAINIT_DRAIN", metavar: "DUR|MIN..MAX", default: "0", parse: null,
    help: "keep serving this long after the stop signal, then forward it (MIN..MAX: see --drain-until-idle)",
    section: "drain", personalities: ALL,
  },
  "drain-until-idle": {
    short: null, kind: "value", env: "DRAINIT_DRAIN_UNTIL_IDLE", metavar: "IDLE", default: null, parse: parseDuration,
    help: "forward once the app's ports saw no traffic for IDLE, within --drain MIN..MAX", section: "drain",
    personalities: ALL,
  },
  "drain-port": {
    short: null, kind: "repeatable", env: "DRAINIT_DRAIN_PORT", metavar: "PORT", default: null, parse: parsePort,
    help: "a port to watch (default: those the app listens on); repeatable", section: "drain", personalities: ALL,
  },
  grace: {
    short: null, kind: "value", env: "DRAINIT_GRACE", metavar: "DUR", default: null, parse: parseDuration,
    help: "after forwarding, SIGKILL the group if still running after DUR", section: "drain", personalities: ALL,
  },
  budget: {
    short: null, kind: "value", env: "DRAINIT_BUDGET", metavar: "DUR", default: null, parse: parseDuration,
    help: "the platform's kill deadline: forward early enough to meet it", section: "drain", personalities: ALL,
  },
  platform: {
    short: null, kind: "value", env: "DRAINIT_PLATFORM", metavar: "NAME", default: null, parse: parsePlatformName,
    help:
      "auto, kubernetes, ecs, fly, nomad, cloudrun, docker or heroku: that platform's kill deadline is the " +
      "default --budget, its stop signal one more --stop-signal; warns when the plan cannot fit",
    section: "drain", personalities: ALL,
  },

  // --- output ---
  verbose: {
    short: "v", kind: "count", env: "DRAINIT_VERBOSE", metavar: null, default: null, parse: null,
    help: "more log lines; repeatable (the variable: a number)", section: "output", personalities: ALL,
  },
  quiet: {
    short: "q", kind: "count", env: "DRAINIT_QUIET", metavar: null, default: null, parse: null,
    help: "fewer log lines; repeatable (the variable: a number)", section: "output", personalities: ALL,
  },
  "log-format": {
    short: null, kind: "value", env: "DRAINIT_LOG_FORMAT", metavar: "FMT", default: "text", parse: logFormatValue,
    help: "text or json, on stderr", section: "output", personalities: ALL,
  },

  // --- utilities: they read no variable, so that a container's environment cannot turn drainit into one ---
  sleep: {
    short: null, kind: "value", env: null, metavar: "DUR", default: null, parse: parseDuration,
    help: "sleep and exit 0 (a 'sleep' for images that have none)", section: "utility", personalities: ALL,
  },
  // The probe's values are checked together in tools/probe.ts (probeRequestOf).
  probe: {
    short: null, kind: "value", env: null, metavar: "URL", default: null, parse: null,
    help: "probe http(s)://... or tcp://HOST:PORT once: exit 0 on a 2xx answer (or an open connection), 1 otherwise",
    section: "utility", personalities: ALL,
  },
  expect: {
    short: null, kind: "repeatable", env: null, metavar: "CODES", default: null, parse: null,
    help: "with --probe: the statuses that count as healthy, e.g. 200,204 (default: any 2xx)", section: "utility",
    personalities: ALL,
  },
  timeout: {
    short: null, kind: "value", env: null, metavar: "DUR", default: "2s", parse: null,
    help: "with --probe: the most the whole probe may take", section: "utility", personalities: ALL,
  },
  header: {
    short: null, kind: "repeatable", env: null, metavar: "'NAME: VALUE'", default: null, parse: null,
    help: "with --probe: a request header; repeatable", section: "utility", personalities: ALL,
  },
  // Its directory and --as's path are checked together in cli.ts.
  "export-rootfs": {
    short: null, kind: "value", env: null, metavar: "DIR", default: null, parse: null,
    help: "copy drainit, its loader and libraries into DIR, for a FROM scratch image: COPY --from=... DIR /",
    section: "utility", personalities: ALL,
  },
  as: {
    short: null, kind: "value", env: null, metavar: "PATH", default: "/drainit", parse: null,
    help: "drainit's path inside DIR", section: "utility", personalities: ALL,
  },
  version: {
    short: "V", kind: "flag", env: null, metavar: null, default: null, parse: null,
    help: "print the version", section: "request", personalities: ALL,
  },
  help: {
    short: "h", kind: "flag", env: null, metavar: null, default: null, parse: null,
    help: "print this help", section: "request", personalities: ALL,
  },

  // --- flags only a peer has, accepted under its names ---
  license: {
    short: "l", kind: "flag", env: null, metavar: null, default: null, parse: null,
    help: "tini, docker-init: print the version (tini prints its license)", section: "peer",
    personalities: ["drainit", "tini"],
  },
  "catatonit-license": {
    short: "L", kind: "flag", env: null, metavar: null, default: null, parse: null,
    help: "catatonit, podman-init: print the version (catatonit prints its license)", section: "peer",
    personalities: ["catatonit"], shortOnly: true,
  },
  pause: {
    short: "P", kind: "flag", env: null, metavar: null, default: null, parse: null,
    help: "catatonit, podman-init: pause mode: run no program, reap zombies, exit 0 on TERM or INT",
    section: "peer", personalities: ["catatonit"], shortOnly: true,
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface OptionRow extends OptionSpec {
  readonly long: OptionName;
}

/** The table as rows, in order. */
export const OPTION_ROWS: readonly OptionRow[] = (Object.keys(OPTIONS) as OptionName[]).map((long) => ({
  long,
  ...(OPTIONS[long] as OptionSpec),
}));

/** `--name`, or null for a peer's flag that has a short name only. */
export function longSpelling(row: OptionRow): string | null {
  return row.shortOnly ? null : `--${row.long}`;
}

export function takesValue(row: OptionSpec): boolean {
  return row.kind === "value" || row.kind === "repeatable";
}

/** Every spelling that a personality accepts (`-c`, `--single-child`, ...). */
export function spellingsOf(personality: Personality): string[] {
  const spellings: string[] = [];
  for (const row of OPTION_ROWS) {
    if (!row.personalities.includes(personality)) continue;
    const long = longSpelling(row);
    if (long) spellings.push(long);
    if (row.short) spellings.push(`-${row.short}`);
  }
  return spellings;
}

/** Every variable drainit reads, as written in the table. */
export const ENVIRONMENT_NAMES: ReadonlySet<string> = new Set<string>(
  OPTION_ROWS.flatMap((row) => (row.env === null ? [] : [row.env])),
);
