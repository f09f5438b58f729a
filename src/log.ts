// One line per event on stderr, as text or JSON. Never throws: a log line must not take PID 1 down.
import { writeSync } from "node:fs";
import { LogLevel, type LogFormat, type LogLevelName } from "./config.ts";
import { EXIT_USAGE } from "./exit-codes.ts";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
  enabled(level: LogLevelName): boolean;
}

export type LineSink = (line: string) => void;

/** Set once a write met a pipe with no reader: it will never have one again. */
let stderrGone = false;
/** Such a write also raised SIGPIPE at drainit itself; that one is not the app's to receive. */
let ownSigpipePending = false;

/** An error as one line: its message's first line (log lines and stderr lines are one line each). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] || error.name;
  return String(error).split("\n")[0] || "unknown error";
}

/** A bad option or value: one line on stderr, exit 2, before anything is started. */
export function exitWithUsageError(error: unknown): never {
  writeStderr(`drainit: ${describeError(error)} (see drainit --help)\n`);
  process.exit(EXIT_USAGE);
}

export function writeStderr(line: string): void {
  if (stderrGone) return;
  try {
    writeSync(2, line);
  } catch (error) {
    // stderr closed or full: nothing better to do than carry on.
    if ((error as NodeJS.ErrnoException).code === "EPIPE") {
      stderrGone = true;
      ownSigpipePending = true;
    }
  }
}

/** Whether a SIGPIPE that just arrived was raised by drainit's own write to stderr (answers yes once). */
export function takeOwnSigpipe(): boolean {
  const own = ownSigpipePending;
  ownSigpipePending = false;
  return own;
}

function formatText(message: string, fields: LogFields | undefined): string {
  let line = `drainit: ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) line += ` ${key}=${value}`;
    }
  }
  return `${line}\n`;
}

function formatJson(level: LogLevelName, message: string, fields: LogFields | undefined): string {
  return `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`;
}

export function createLogger(verbosity: number, format: LogFormat, sink: LineSink = writeStderr): Logger {
  const at =
    (level: LogLevelName) =>
    (message: string, fields?: LogFields): void => {
      if (LogLevel[level] > verbosity) return;
      sink(format === "json" ? formatJson(level, message, fields) : formatText(message, fields));
    };
  return {
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    trace: at("trace"),
    enabled: (level) => LogLevel[level] <= verbosity,
  };
}
