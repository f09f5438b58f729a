// drainit's entry point: wire the command line, the kernel and the drain helpers to the supervisor.
// First of all, the runtime settings (which may start drainit again), then the signal handler.
import "./runtime/restart-with-runtime-settings.ts";
import { routeSignals } from "./runtime/early-signals.ts";
import { parseCommandLine, usageText, type Invocation } from "./cli/cli.ts";
import { LogLevel, UsageError, type Config } from "./config.ts";
import { EXIT_EXPORT_FAILED, EXIT_INTERNAL_ERROR, EXIT_USAGE } from "./exit-codes.ts";
import { DrainFile } from "./drain/file.ts";
import { HealthBindError, serveHealth, type HealthEndpoint } from "./drain/health.ts";
import { startHttpClientThread } from "./runtime/http-client-thread.ts";
import { postDrainHook } from "./drain/http-hook.ts";
import { watchTraffic } from "./drain/traffic.ts";
import { createLogger, takeOwnSigpipe, writeStderr, type Logger } from "./log.ts";
import { exportRootfs, RootfsError } from "./tools/rootfs.ts";
import { withoutAddedSettings } from "./runtime/runtime-settings.ts";
import { inheritedDescriptors } from "./runtime/keep-inherited-descriptors.ts";
import { SIGCHLD, SIGNALS } from "./signals.ts";
import { Supervisor, type Effects } from "./supervisor/supervisor.ts";
import { monotonicClock, setLongTimeout } from "./sys/clock.ts";
import type { Kernel } from "./sys/kernel.ts";
import { LibcKernel } from "./sys/libc.ts";
import { rawEnvironment, rawTrailingArgs } from "./sys/proc.ts";

let supervisor: Supervisor | null = null;
let failures = 0;

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.name;
  return String(error).split("\n")[0] ?? "unknown error";
}

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

function sleepThenExit(ms: number): void {
  // A sleep that ends on the signals that end /bin/sleep, with the same exit code.
  const fatal = new Set(["HUP", "INT", "QUIT", "USR1", "USR2", "ALRM", "TERM"].map((n) => SIGNALS[n]!));
  routeSignals((signal) => {
    if (fatal.has(signal)) process.exit(128 + signal);
  }, onUnexpectedError);
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
  return {
    markDraining() {
      health?.markDraining();
      try {
        drainFile?.create();
      } catch (error) {
        log.warn(`could not create the drain file ${config.drainFile}: ${describeError(error)}`);
      }
    },
    cleanUp() {
      try {
        drainFile?.remove();
      } catch (error) {
        log.warn(`could not remove the drain file ${config.drainFile}: ${describeError(error)}`);
      }
      health?.close();
    },
    callHttpHook: postDrainHook,
    watchTraffic: (appPid) =>
      watchTraffic(kernel, appPid, config.adaptiveDrain?.ports ?? [], monotonicClock.now(), log),
    exit: (code) => process.exit(code),
  };
}

function run(config: Config, warnings: string[]): void {
  const log = createLogger(config.verbosity, config.logFormat);
  for (const warning of warnings) log.warn(warning);
  let health: HealthEndpoint | null = null;
  if (config.health) {
    try {
      health = serveHealth(config.health, config.healthUpstream);
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
    writeStderr(`drainit: ${describeError(error)} (see drainit --help)\n`);
    process.exit(EXIT_USAGE);
  }
  switch (invocation.kind) {
    case "help":
    case "version":
      process.stdout.write(invocation.text);
      return process.exit(0);
    case "sleep": return sleepThenExit(invocation.ms);
    case "export-rootfs": return exportRootfsThenExit(invocation.dir, invocation.as);
    case "pause": return pauseUntilStopped(invocation.warnings);
    case "run": return run(invocation.config, invocation.warnings);
  }
}

void main().catch(onUnexpectedError);
