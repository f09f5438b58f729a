// The settings → the Config the supervisor runs with: defaults, personality and the checks
// that involve several options at once.
import { DEFAULT_HOOK_TIMEOUT_MS, LogLevel, UsageError, parseDuration, parseDurationRange, type Config } from "../config.ts";
import { FORWARDED_SIGNALS, SIGNALS, SIGSTOP, TERMINAL_STOP_SIGNALS, signalName } from "../signals.ts";
import { OPTION_ROWS, type Personality } from "./options.ts";
import { baseVerbosity, defaultSingleChild, defaultSubreaper } from "./personalities.ts";
import type { Environment, Settings } from "./settings.ts";

/** -c and -g (or their variables), else the personality's default. */
function singleChildOf(settings: Settings, env: Environment, personality: Personality): boolean {
  // The command line wins as a whole: `-g` overrides DRAINIT_SINGLE_CHILD=1 rather than contradicting it.
  const useEnvironment = !settings.given("single-child") && !settings.given("group");
  const single = settings.flag("single-child", useEnvironment);
  const group = settings.flag("group", useEnvironment);
  if (single && group) throw new UsageError("--single-child and --group contradict each other");
  if (single !== null || group !== null) return single === true || group === false;
  return defaultSingleChild(personality, env);
}

function verbosityOf(settings: Settings, env: Environment, personality: Personality): number {
  const drainAsked = OPTION_ROWS.some((row) => row.section === "drain" && settings.isSet(row.long));
  // -v or -q on the command line replace both variables, as a given option replaces its variable.
  const useEnvironment = !settings.given("verbose") && !settings.given("quiet");
  const level =
    baseVerbosity(personality, env, drainAsked) +
    settings.count("verbose", useEnvironment) -
    settings.count("quiet", useEnvironment);
  return Math.max(LogLevel.error, Math.min(LogLevel.trace, level));
}

/** `--drain DUR`, or `--drain MIN..MAX --drain-until-idle IDLE` for the adaptive drain. */
function drainDurationsOf(settings: Settings): Pick<Config, "drainMs" | "adaptiveDrain"> {
  const drain = settings.last("drain");
  const idleMs = settings.parsed("drain-until-idle");
  const ports = settings.parsedAll("drain-port");
  if (idleMs === null) {
    if (drain?.text.includes("..")) throw new UsageError(`${drain.from} MIN..MAX needs --drain-until-idle IDLE`);
    if (ports.length) throw new UsageError(`${settings.last("drain-port")!.from} needs --drain-until-idle`);
    return { drainMs: drain === null ? 0 : parseDuration(drain.text, drain.from), adaptiveDrain: null };
  }
  const idle = settings.last("drain-until-idle")!;
  if (drain === null) throw new UsageError(`${idle.from} needs --drain MIN..MAX (e.g. 2s..60s)`);
  const { minMs, maxMs } = drain.text.includes("..")
    ? parseDurationRange(drain.text, drain.from)
    : { minMs: 0, maxMs: parseDuration(drain.text, drain.from) };
  if (idleMs <= 0) throw new UsageError(`${idle.from} must be longer than 0`);
  return { drainMs: minMs, adaptiveDrain: { minMs, maxMs, idleMs, ports } };
}

export function buildConfig(settings: Settings, env: Environment, personality: Personality, command: string[]): Config {
  const singleChild = singleChildOf(settings, env, personality);
  const rewrites = new Map<number, number>();
  // A session leader's group has no terminal to stop it: as dumb-init does, turn them into STOP.
  if (!singleChild) for (const sig of TERMINAL_STOP_SIGNALS) rewrites.set(sig, SIGSTOP);
  for (const [from, to] of settings.parsedAll("rewrite")) rewrites.set(from, to);

  const stopNames = settings.values("stop-signal");
  const stopSignals = new Set(stopNames.length ? settings.parsedAll("stop-signal") : [SIGNALS.TERM!]);
  for (const stop of stopSignals) {
    if (!FORWARDED_SIGNALS.includes(stop)) {
      const from = settings.last("stop-signal")!.from;
      throw new UsageError(`${from}: drainit cannot listen to ${signalName(stop)}, so it could never start a drain`);
    }
  }

  const pdeathsig = settings.parsed("pdeathsig");
  const logFormat = settings.parsed("log-format") ?? "text";
  const health = settings.last("health");
  const upstream = settings.last("health-upstream");
  if (upstream !== null && health === null) throw new UsageError(`${upstream.from} needs --health`);
  const drainHook = settings.parsed("drain-hook");
  const graceMs = settings.parsed("grace");

  const config: Config = {
    command,
    singleChild,
    rewrites,
    subreaper: settings.flag("subreaper") === true || defaultSubreaper(personality, env),
    remapExit: new Set(settings.parsedAll("remap-exit")),
    pdeathsig,
    warnOnReap: settings.flag("warn-on-reap") === true,
    verbosity: verbosityOf(settings, env, personality),
    logFormat,
    stopSignals,
    ...drainDurationsOf(settings),
    drainHook,
    hookTimeoutMs: settings.parsed("hook-timeout") ?? DEFAULT_HOOK_TIMEOUT_MS,
    drainFile: settings.parsed("drain-file"),
    health: settings.parsed("health"),
    healthUpstream: settings.parsed("health-upstream"),
    graceMs,
    budgetMs: settings.parsed("budget"),
  };
  if (graceMs !== null) {
    for (const stop of stopSignals) {
      if (rewrites.get(stop) === 0) {
        throw new UsageError(`${settings.last("grace")!.from} needs the stop signal forwarded, but --rewrite drops ${signalName(stop)}`);
      }
    }
  }
  return config;
}
