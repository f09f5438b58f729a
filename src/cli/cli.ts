// The command line and DRAINIT_* environment → what to do. Also the dumb-init and tini personalities.
import type yargsFactory from "yargs";
import { parse as parseShellWords } from "shell-quote";
import packageJson from "../../package.json" with { type: "json" };
import {
  DEFAULT_HOOK_TIMEOUT_MS,
  LogLevel,
  UsageError,
  parseDuration,
  parseDurationRange,
  parseHttpUrl,
  parsePort,
  parseListenAddress,
  type Config,
  type DrainHook,
  type LogFormat,
} from "../config.ts";
import { FORWARDED_SIGNALS, SIGNALS, SignalError, TERMINAL_STOP_SIGNALS, SIGSTOP, parseRewrites, parseSignal, signalName } from "../signals.ts";

export type Invocation =
  | { kind: "run"; config: Config; warnings: string[] }
  | { kind: "sleep"; ms: number }
  | { kind: "export-rootfs"; dir: string; as: string }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string };

/** Which tool drainit stands in for, from the name it was invoked by. */
export type Personality = "drainit" | "dumb-init" | "tini";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Options that take a value; everything repeatable is listed in REPEATABLE. */
const VALUE_OPTIONS = [
  "rewrite", "remap-exit", "pdeathsig", "log-format", "stop-signal", "drain", "drain-hook",
  "hook-timeout", "drain-file", "health", "health-upstream", "grace", "budget", "sleep",
  "export-rootfs", "as", "drain-until-idle", "drain-port",
] as const;
const FLAG_OPTIONS = ["single-child", "group", "subreaper", "warn-on-reap"] as const;
const REPEATABLE = new Set<string>(["rewrite", "remap-exit", "stop-signal", "drain-port"]);

type ValueOption = (typeof VALUE_OPTIONS)[number];
type FlagOption = (typeof FLAG_OPTIONS)[number];

const HELP = `Usage: drainit [options] [--] <command> [args...]

A PID-1 init: runs <command>, forwards signals to it, reaps zombies, exits with
its code - and drains before stopping, so a rolling update drops no request.

Process:
  -c, --single-child       signal the child only, not its process group
  -g, --group              signal the child's process group (the default)
  -r, --rewrite FROM:TO    rewrite a signal before forwarding (TO=0 drops it); repeatable
  -s, --subreaper          become a child subreaper (automatic when not PID 1)
  -e, --remap-exit CODE    exit 0 when the child exits with CODE; repeatable
  -p, --pdeathsig SIG      signal to receive when drainit's parent dies
  -w, --warn-on-reap       log each zombie reaped that was not the child

Drain sequence, on the first stop signal:
      --stop-signal SIG    signal that starts the drain (default TERM); repeatable
      --drain-file PATH    create PATH when draining starts, remove it at exit
      --health ADDR:PORT   serve GET /healthz: 200 while running, 503 once draining
      --health-upstream URL  while running, answer what the app's health URL answers
      --drain-hook CMD|URL run a command (no shell) or POST to a URL
      --hook-timeout DUR   cap on the hook (default 30s)
      --drain DUR          keep serving this long after the stop signal, then forward it
      --drain MIN..MAX --drain-until-idle IDLE
                           forward once the app's ports saw no traffic for IDLE,
                           no sooner than MIN, no later than MAX
      --drain-port PORT    the ports to watch (default: those the app listens on); repeatable
      --grace DUR          after forwarding, SIGKILL the group if still running after DUR
      --budget DUR         the platform's kill deadline: forward early enough to meet it
  A second stop signal skips the rest of the drain.

Output:
  -v, --verbose            more log lines (repeatable)
  -q, --quiet              fewer log lines (repeatable)
      --log-format FMT     text (default) or json, on stderr

Other:
      --sleep DUR          sleep and exit 0 (a 'sleep' for images that have none)
      --export-rootfs DIR  copy drainit, its loader and libraries into DIR, for a
                           FROM scratch image: COPY --from=... DIR /
      --as PATH            drainit's path inside DIR (default /drainit)
  -V, --version            print the version
  -h, --help               print this help

Durations: 500ms, 5s, 2m, or a number of seconds. Every long option can also be
set as DRAINIT_<NAME> in the environment (--drain-hook: DRAINIT_DRAIN_HOOK);
the command line wins. Repeatable options take a comma-separated list there.

Exit codes: the child's code, or 128+N when signal N ended it; 2 for a usage
error; 126 when the command cannot be executed, 127 when it is not found; 70
when drainit itself fails; 1 when --export-rootfs cannot read or write a file.
`;

export function personalityOf(invokedAs: string): Personality {
  const name = invokedAs.split("/").pop() ?? "";
  if (name === "dumb-init") return "dumb-init";
  if (name === "tini" || name === "tini-static") return "tini";
  return "drainit";
}

function versionText(): string {
  const bun = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`;
  return `drainit ${packageJson.version} (${bun}, ${process.platform}-${process.arch})\n`;
}

type Parsed = Record<string, unknown> & { "--"?: unknown[] };

/**
 * yargs costs about 10 ms to load, more than the rest of drainit's start-up, and about 5 ms
 * merely by being part of the startup code. So it is imported dynamically (the build puts it in
 * a chunk of its own, read only when imported) and only when the command line has options:
 * `drainit -- app`, configured by DRAINIT_* variables or not at all, never pays for it.
 */
let yargs: typeof yargsFactory | null = null;

/** Loads the option parser; parseCommandLine needs it whenever the command line has options. */
export async function loadOptionParser(): Promise<void> {
  yargs ??= (await import("yargs")).default;
}

/** parseCommandLine, loading the option parser first when the command line needs it. */
export async function parseCommandLineLoading(
  args: readonly string[],
  env: Environment,
  invokedAs: string,
): Promise<Invocation> {
  if (!withoutOptions(args)) await loadOptionParser();
  return parseCommandLine(args, env, invokedAs);
}

function loadedYargs(): typeof yargsFactory {
  if (!yargs) throw new Error("the option parser is not loaded: call loadOptionParser() first");
  return yargs;
}

/** What yargs returns for a command line that has no options before the command. */
function withoutOptions(args: readonly string[]): Parsed | null {
  if (args[0] === "--") return args.length > 1 ? { verbose: 0, quiet: 0, "--": args.slice(1) } : { verbose: 0, quiet: 0 };
  if (args.length > 0 && !args[0]!.startsWith("-")) return { verbose: 0, quiet: 0, "--": [...args] };
  return null;
}

function parseArgv(args: readonly string[]): Parsed {
  const plain = withoutOptions(args);
  if (plain) return plain;
  const factory = loadedYargs();
  try {
    return parseWithYargs(factory, args);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parseWithYargs(factory: typeof yargsFactory, args: readonly string[]): Parsed {
  const parser = factory()
    .parserConfiguration({
      "halt-at-non-option": true,
      "populate--": true,
      "camel-case-expansion": false,
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "boolean-negation": false,
      "dot-notation": false,
    })
    .strictOptions()
    .exitProcess(false)
    .help(false)
    .version(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new UsageError(message ?? error?.message ?? "invalid arguments");
    })
    .option("single-child", { alias: "c", type: "boolean" })
    .option("group", { alias: "g", type: "boolean" })
    .option("subreaper", { alias: "s", type: "boolean" })
    .option("warn-on-reap", { alias: "w", type: "boolean" })
    .option("verbose", { alias: "v", type: "count" })
    .option("quiet", { alias: "q", type: "count" })
    .option("version", { alias: "V", type: "boolean" })
    .option("help", { alias: "h", type: "boolean" })
    .option("license", { alias: "l", type: "boolean", hidden: true });
  const shortNames: Partial<Record<ValueOption, string>> = { rewrite: "r", "remap-exit": "e", pdeathsig: "p" };
  for (const name of VALUE_OPTIONS) {
    const alias = shortNames[name];
    parser.option(name, { type: "string", nargs: 1, requiresArg: true, ...(alias ? { alias } : {}) });
  }
  return parser.parseSync([...args]) as Parsed;
}

/** Values of an option, command line first, then DRAINIT_<NAME> (comma-separated for repeatable ones). */
function valuesOf(parsed: Parsed, env: Environment, name: ValueOption): string[] {
  const given = parsed[name];
  if (given !== undefined) return (Array.isArray(given) ? given : [given]).map(String);
  const fromEnv = env[`DRAINIT_${name.toUpperCase().replace(/-/g, "_")}`];
  if (fromEnv === undefined || fromEnv === "") return [];
  return REPEATABLE.has(name) ? fromEnv.split(/[\s,]+/).filter(Boolean) : [fromEnv];
}

/** The last value given (a later flag overrides an earlier one), or null. */
function lastValueOf(parsed: Parsed, env: Environment, name: ValueOption): string | null {
  return valuesOf(parsed, env, name).pop() ?? null;
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", ""]);

function flagOf(parsed: Parsed, env: Environment, name: FlagOption): boolean | null {
  if (parsed[name] !== undefined) return Boolean(parsed[name]);
  const fromEnv = env[`DRAINIT_${name.toUpperCase().replace(/-/g, "_")}`];
  if (fromEnv === undefined) return null;
  const word = fromEnv.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new UsageError(`DRAINIT_${name.toUpperCase().replace(/-/g, "_")}: '${fromEnv}' is not true or false`);
}

function durationOf(parsed: Parsed, env: Environment, name: ValueOption): number | null {
  const text = lastValueOf(parsed, env, name);
  return text === null ? null : parseDuration(text, `--${name}`);
}

/** The word-splitting library takes an unclosed quote as if it were closed; a shell would not. */
function hasUnclosedQuote(text: string): boolean {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\" && quote !== "'") i += 1;
    else if (quote === null && (char === "'" || char === '"')) quote = char;
    else if (char === quote) quote = null;
  }
  return quote !== null;
}

/** A hook is a URL when it looks like one; otherwise shell words, with no shell to run them. */
export function parseDrainHook(text: string): DrainHook {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return { kind: "http", url: parseHttpUrl(trimmed, "--drain-hook") };
  if (hasUnclosedQuote(trimmed)) throw new UsageError(`--drain-hook: unclosed quote in '${trimmed}'`);
  const argv: string[] = [];
  // Variables are kept as written: no shell runs the hook, so none expands them.
  for (const word of parseShellWords(trimmed, (name) => `$${name}`)) {
    if (typeof word === "string") argv.push(word);
    else if ("op" in word && word.op === "glob") argv.push(word.pattern);
    else if ("op" in word) {
      throw new UsageError(`--drain-hook: '${word.op}' needs a shell; write it as: sh -c '...'`);
    }
  }
  if (argv.length === 0) throw new UsageError("--drain-hook: empty command");
  return { kind: "command", argv, text: trimmed };
}

function exitCodeList(values: string[]): Set<number> {
  return new Set(
    values.map((value) => {
      if (!/^\d+$/.test(value.trim()) || Number(value) > 255) {
        throw new UsageError(`--remap-exit: '${value}' is not an exit code (0-255)`);
      }
      return Number(value);
    }),
  );
}

function verbosityOf(parsed: Parsed, env: Environment, personality: Personality): number {
  let base: number = personality === "drainit" ? LogLevel.info : LogLevel.warn;
  if (personality === "tini" && env.TINI_VERBOSITY !== undefined && /^\d+$/.test(env.TINI_VERBOSITY)) {
    base = Number(env.TINI_VERBOSITY);
  }
  const envVerbosity = env.DRAINIT_VERBOSE;
  if (parsed.verbose === 0 && parsed.quiet === 0 && envVerbosity && /^\d+$/.test(envVerbosity)) {
    base += Number(envVerbosity);
  }
  const level = base + Number(parsed.verbose ?? 0) - Number(parsed.quiet ?? 0);
  return Math.max(LogLevel.error, Math.min(LogLevel.trace, level));
}

/** dumb-init -c / DUMB_INIT_SETSID=0, tini without -g: which one applies, by personality. */
function singleChildOf(parsed: Parsed, env: Environment, personality: Personality): boolean {
  // The command line wins as a whole: `-g` overrides DRAINIT_SINGLE_CHILD=1 rather than contradicting it.
  const flagSource = parsed["single-child"] !== undefined || parsed.group !== undefined ? {} : env;
  const single = flagOf(parsed, flagSource, "single-child");
  const group = flagOf(parsed, flagSource, "group");
  if (single && group) throw new UsageError("--single-child and --group contradict each other");
  if (single !== null || group !== null) return single === true || group === false;
  if (personality === "dumb-init") return env.DUMB_INIT_SETSID === "0";
  if (personality === "tini") return env.TINI_KILL_PROCESS_GROUP === undefined;
  return false;
}

/** `--drain DUR`, or `--drain MIN..MAX --drain-until-idle IDLE` for the adaptive drain. */
function drainDurationsOf(parsed: Parsed, env: Environment): Pick<Config, "drainMs" | "adaptiveDrain"> {
  const drainText = lastValueOf(parsed, env, "drain");
  const idleMs = durationOf(parsed, env, "drain-until-idle");
  const ports = valuesOf(parsed, env, "drain-port").map((port) => parsePort(port, "--drain-port"));
  if (idleMs === null) {
    if (drainText?.includes("..")) throw new UsageError("--drain MIN..MAX needs --drain-until-idle IDLE");
    if (ports.length) throw new UsageError("--drain-port needs --drain-until-idle");
    return { drainMs: drainText === null ? 0 : parseDuration(drainText, "--drain"), adaptiveDrain: null };
  }
  if (drainText === null) throw new UsageError("--drain-until-idle needs --drain MIN..MAX (e.g. 2s..60s)");
  const { minMs, maxMs } = drainText.includes("..")
    ? parseDurationRange(drainText, "--drain")
    : { minMs: 0, maxMs: parseDuration(drainText, "--drain") };
  if (idleMs <= 0) throw new UsageError("--drain-until-idle must be longer than 0");
  return { drainMs: minMs, adaptiveDrain: { minMs, maxMs, idleMs, ports } };
}

function buildConfig(parsed: Parsed, env: Environment, personality: Personality, command: string[]): Config {
  const singleChild = singleChildOf(parsed, env, personality);
  const rewrites = new Map<number, number>();
  // A session leader's group has no terminal to stop it: as dumb-init does, turn them into STOP.
  if (!singleChild) for (const sig of TERMINAL_STOP_SIGNALS) rewrites.set(sig, SIGSTOP);
  for (const [from, to] of parseRewrites(valuesOf(parsed, env, "rewrite"))) rewrites.set(from, to);

  const stopNames = valuesOf(parsed, env, "stop-signal");
  const stopSignals = new Set(stopNames.length ? stopNames.map((s) => parseSignal(s)) : [SIGNALS.TERM!]);
  for (const stop of stopSignals) {
    if (!FORWARDED_SIGNALS.includes(stop)) {
      throw new UsageError(`--stop-signal: drainit cannot listen to ${signalName(stop)}, so it could never start a drain`);
    }
  }

  const pdeathsigText = lastValueOf(parsed, env, "pdeathsig");
  const logFormat = (lastValueOf(parsed, env, "log-format") ?? "text") as LogFormat;
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`--log-format: '${logFormat}' is not text or json`);
  }
  const healthText = lastValueOf(parsed, env, "health");
  const upstreamText = lastValueOf(parsed, env, "health-upstream");
  if (upstreamText !== null && healthText === null) throw new UsageError("--health-upstream needs --health");
  const hookText = lastValueOf(parsed, env, "drain-hook");
  const graceMs = durationOf(parsed, env, "grace");

  const config: Config = {
    command,
    singleChild,
    rewrites,
    subreaper:
      flagOf(parsed, env, "subreaper") === true || (personality === "tini" && env.TINI_SUBREAPER !== undefined),
    remapExit: exitCodeList(valuesOf(parsed, env, "remap-exit")),
    pdeathsig: pdeathsigText === null ? null : parseSignal(pdeathsigText),
    warnOnReap: flagOf(parsed, env, "warn-on-reap") === true,
    verbosity: verbosityOf(parsed, env, personality),
    logFormat,
    stopSignals,
    ...drainDurationsOf(parsed, env),
    drainHook: hookText === null ? null : parseDrainHook(hookText),
    hookTimeoutMs: durationOf(parsed, env, "hook-timeout") ?? DEFAULT_HOOK_TIMEOUT_MS,
    drainFile: lastValueOf(parsed, env, "drain-file"),
    health: healthText === null ? null : parseListenAddress(healthText, "--health"),
    healthUpstream: upstreamText === null ? null : parseHttpUrl(upstreamText, "--health-upstream"),
    graceMs,
    budgetMs: durationOf(parsed, env, "budget"),
  };
  if (graceMs !== null) {
    for (const stop of stopSignals) {
      if (rewrites.get(stop) === 0) {
        throw new UsageError(`--grace needs the stop signal forwarded, but --rewrite drops ${signalName(stop)}`);
      }
    }
  }
  if (config.drainFile === "") throw new UsageError("--drain-file: empty path");
  return config;
}

/** Options of the utilities, which read no DRAINIT_* variable: a container's environment must not turn drainit into one. */
const UTILITY_OPTIONS = new Set<string>(["sleep", "export-rootfs", "as"]);

/** Where --export-rootfs puts drainit inside the root unless --as says otherwise. */
const DEFAULT_EXPORT_PATH = "/drainit";

/** --export-rootfs DIR [--as PATH], or null when not asked for. */
function exportRootfsOf(parsed: Parsed, hasCommand: boolean): Invocation | null {
  const dir = valuesOf(parsed, {}, "export-rootfs").pop();
  const as = valuesOf(parsed, {}, "as").pop();
  if (dir === undefined) {
    if (as !== undefined) throw new UsageError("--as needs --export-rootfs");
    return null;
  }
  if (hasCommand) throw new UsageError("--export-rootfs takes no command");
  if (dir === "") throw new UsageError("--export-rootfs: empty directory");
  const target = as ?? DEFAULT_EXPORT_PATH;
  if (!target.startsWith("/") || target.endsWith("/") || target.split("/").some((part) => part === "..")) {
    throw new UsageError(`--as: '${target}' is not an absolute file path inside the root`);
  }
  return { kind: "export-rootfs", dir, as: target.replace(/\/+/g, "/") };
}

/** Parses drainit's arguments (argv without the program name). Throws UsageError on bad input. */
export function parseCommandLine(args: readonly string[], env: Environment, invokedAs: string): Invocation {
  const personality = personalityOf(invokedAs);
  const parsed = parseArgv(args);
  if (parsed.help) return { kind: "help", text: HELP };
  if (parsed.version || parsed.license) return { kind: "version", text: versionText() };

  const exportInvocation = exportRootfsOf(parsed, (parsed["--"] ?? []).length > 0);
  if (exportInvocation) return exportInvocation;
  const sleepText = valuesOf(parsed, {}, "sleep").pop();
  const command = (parsed["--"] ?? []).map(String);
  if (sleepText !== undefined) {
    if (command.length) throw new UsageError("--sleep takes no command");
    return { kind: "sleep", ms: parseDuration(sleepText, "--sleep") };
  }
  if (command.length === 0) throw new UsageError("no command given");
  try {
    const config = buildConfig(parsed, env, personality, command);
    return { kind: "run", config, warnings: unknownEnvironmentNames(env) };
  } catch (error) {
    if (error instanceof SignalError) throw new UsageError(error.message);
    throw error;
  }
}

const KNOWN_ENV = new Set(
  [...VALUE_OPTIONS.filter((n) => !UTILITY_OPTIONS.has(n)), ...FLAG_OPTIONS, "verbose"].map(
    (name) => `DRAINIT_${name.toUpperCase().replace(/-/g, "_")}`,
  ),
);

/** A DRAINIT_* variable that matches no option is probably a typo worth a warning. */
function unknownEnvironmentNames(env: Environment): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith("DRAINIT_") && !KNOWN_ENV.has(name))
    .map((name) => `${name} is set but drainit has no such option; ignored`);
}

export function usageText(): string {
  return HELP;
}
