// The init: wire the command line, the kernel and the drain helpers to the supervisor
// (entry.ts loads it for every command line but a probe's).
// First of all, the runtime settings (which may start drainit again), then the signal handler.
import "./runtime/restart-with-runtime-settings.ts";
import { routeSignals } from "./runtime/early-signals.ts";
import { parseCommandLine, usageText, type Invocation } from "./cli/cli.ts";
import { LogLevel, UsageError, type Config } from "./config.ts";
import { EXIT_EXPORT_FAILED, EXIT_INTERNAL_ERROR, EXIT_USAGE } from "./exit-codes.ts";
import { DrainFile } from "./drain/file.ts";
import { HealthBindError, drainPlanOf, serveHealth, type HealthEndpoint } from "./drain/health.ts";
import { startHttpClientThread } from "./runtime/http-client-thread.ts";
import { postDrainHook } from "./drain/http-hook.ts";
import { watchTraffic } from "./drain/traffic.ts";
import { createLogger, describeError, exitWithUsageError, takeOwnSigpipe, writeStderr, type Logger } from "./log.ts";
import { exportRootfs, RootfsError } from "./tools/rootfs.ts";
import { probeRequestOf, probeThenExit, type ProbeOptions, type ProbeRequest } from "./tools/probe.ts";
import type { PlatformNote } from "./cli/platforms.ts";
import { withoutAddedSettings } from "./runtime/runtime-settings.ts";
import { inheritedDescriptors } from "./runtime/keep-inherited-descriptors.ts";
import { SIGCHLD, SIGNALS } from "./signals.ts";
import { Supervisor, type Effects } from "./supervisor/supervisor.ts";
import { OomKillWatch, oomKillMessage } from "./sys/cgroup.ts";
import { monotonicClock, setLongTimeout } from "./sys/clock.ts";
import type { Kernel } from "./sys/kernel.ts";
import { LibcKernel } from "./sys/libc.ts";
import { rawEnvironment, rawTrailingArgs } from "./sys/proc.ts";

let supervisor: Supervisor | null = null;
let failures = 0;

/** Never throws and never lets drainit vanish silently: as PID 1 its exit kills everything. */
function onUnexpectedError(error: unknown): void {
  try {
    failures += 1;
    if (supervisor && failures === 1) {
      supervisor.abort(describeError(error));
      return;
    }
    writeStderr(`drainit: internal error: ${describeError(error)}\n`);
    if (supervisor?.pid) process.kill(-supervisor.pid, "SIGTERM");
  } catch {
    // Reporting failed too; exiting with a defined code is all that is left.
  }
  process.exit(EXIT_INTERNAL_ERROR);
}

process.on("uncaughtException", onUnexpectedError);
process.on("unhandledRejection", onUnexpectedError);

/** The utilities end on the signals that end /bin/sleep, with the same exit code, as any program would. */
function exitOnFatalSignals(): void {
  const fatal = new Set(["HUP", "INT", "QUIT", "USR1", "USR2", "ALRM", "TERM"].map((n) => SIGNALS[n]!));
  routeSignals((signal) => {
    if (fatal.has(signal)) process.exit(128 + signal);
  }, onUnexpectedError);
}

function sleepThenExit(ms: number): void {
  exitOnFatalSignals();
  setLongTimeout(ms, () => process.exit(0));
}

/**
 * catatonit's pause mode (`-P`, what Podman runs in a pod's infra container): no program; reap
 * whatever is re-parented to drainit, and exit 0 on TERM or INT.
 */
function pauseUntilStopped(warnings: string[]): void {
  const log = createLogger(LogLevel.warn, "text");
  for (const warning of warnings) log.warn(warning);
  const kernel = new LibcKernel();
  // Not PID 1: orphans must still come to drainit to be reaped, as they would to catatonit.
  if (kernel.pid() !== 1) kernel.becomeSubreaper();
  process.chdir("/");
  const reapAll = () => {
    while (typeof kernel.reapOne() === "object");
  };
  // Signal listeners do not keep the process alive; this timer does, and reaps what a coalesced SIGCHLD left.
  setInterval(reapAll, 1_000);
  routeSignals((signal) => {
    if (signal === SIGNALS.TERM || signal === SIGNALS.INT) process.exit(0);
    if (signal === SIGCHLD) reapAll();
  }, onUnexpectedError);
}

function exportRootfsThenExit(dir: string, as: string): void {
  try {
    for (const path of exportRootfs(dir, as)) process.stdout.write(`${path}\n`);
  } catch (error) {
    if (!(error instanceof RootfsError)) throw error;
    writeStderr(`drainit: --export-rootfs: ${error.message}\n`);
    process.exit(EXIT_EXPORT_FAILED);
  }
  process.exit(0);
}

function drainEffects(config: Config, health: HealthEndpoint | null, log: Logger, kernel: Kernel): Effects {
  const drainFile = config.drainFile ? new DrainFile(config.drainFile) : null;
  // Read before the child starts: a later count higher than this one means an OOM kill.
  const oomKills = OomKillWatch.start();
  return {
    markDraining() {
      try {
        drainFile?.create();
      } catch (error) {
        log.warn(`could not create the drain file ${config.drainFile}: ${describeError(error)}`);
      }
    },
    phaseChanged(phase) {
      health?.setPhase(phase);
    },
    cleanUp() {
      try {
        drainFile?.remove();
      } catch (error) {
        log.warn(`could not remove the drain file ${config.drainFile}: ${describeError(error)}`);
      }
      health?.close();
    },
    outOfMemoryKill: () => (oomKills?.killedSinceStart() ? oomKillMessage(oomKills.limit()) : null),
    callHttpHook: postDrainHook,
    watchTraffic: (appPid) =>
      watchTraffic(kernel, appPid, config.adaptiveDrain?.ports ?? [], monotonicClock.now(), log),
    exit: (code) => process.exit(code),
  };
}

/** `drainit --probe` not first on the command line (entry.ts takes the usual case, alone). */
async function probeOrExit(options: ProbeOptions): Promise<void> {
  let request: ProbeRequest;
  try {
    request = probeRequestOf(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    exitWithUsageError(error);
  }
  // The listeners registered for an init must not keep a probe from ending on TERM.
  exitOnFatalSignals();
  await probeThenExit(request, writeStderr);
}

function run(config: Config, warnings: string[], platformNotes: PlatformNote[]): void {
  const log = createLogger(config.verbosity, config.logFormat);
  for (const warning of warnings) log.warn(warning);
  for (const note of platformNotes) log[note.level](note.message);
  let health: HealthEndpoint | null = null;
  if (config.health) {
    try {
      health = serveHealth(config.health, config.healthUpstream, drainPlanOf(config));
    } catch (error) {
      if (!(error instanceof HealthBindError)) throw error;
      log.error(error.message);
      process.exit(EXIT_USAGE);
    }
  }
  if (config.drainHook?.kind === "http" || config.healthUpstream) startHttpClientThread();
  const cwd = process.cwd();
  const kernel = new LibcKernel();
  const environment = rawEnvironment();
  supervisor = new Supervisor({
    config,
    launch: {
      argv: rawTrailingArgs(config.command.length) ?? config.command,
      env: environment ? withoutAddedSettings(environment) : undefined,
      cwd,
      fds: inheritedDescriptors(),
    },
    kernel,
    clock: monotonicClock,
    log,
    effects: drainEffects(config, health, log, kernel),
  });
  const running = supervisor;
  running.start();
  if (running.state === "exited") return;
  // The child keeps the caller's directory; drainit itself must not hold a mount busy.
  process.chdir("/");
  routeSignals((signal, senderPid) => {
    // Writing a log line to a stderr nobody reads raises SIGPIPE here: forwarding it would kill
    // the app. drainit's own handler tells that one apart by its sender and never routes it; the
    // runtime's listeners, used when that handler is missing, cannot tell.
    if (signal === SIGNALS.PIPE && senderPid === undefined && takeOwnSigpipe()) return;
    running.receiveSignal(signal, senderPid);
  }, onUnexpectedError);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    writeStderr(usageText());
    process.exit(EXIT_USAGE);
  }
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(args, process.env, process.argv0);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    exitWithUsageError(error);
  }
  switch (invocation.kind) {
    case "help":
    case "version":
      process.stdout.write(invocation.text);
      return process.exit(0);
    case "sleep": return sleepThenExit(invocation.ms);
    case "export-rootfs": return exportRootfsThenExit(invocation.dir, invocation.as);
    case "pause": return pauseUntilStopped(invocation.warnings);
    case "probe": return probeOrExit(invocation.options);
    case "run": return run(invocation.config, invocation.warnings, invocation.platformNotes);
  }
}

void main().catch(onUnexpectedError);
