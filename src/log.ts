// One line per event on stderr, as text or JSON. Never throws: a log line must not take PID 1 down.
import { writeSync } from "node:fs";
import { LogLevel, type LogFormat, type LogLevelName } from "./config.ts";

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

export function writeStderr(line: string): void {
  try {
    writeSync(2, line);
  } catch {
    // stderr closed or full: nothing better to do than carry on.
  }
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
