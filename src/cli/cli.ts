// The command line, the DRAINIT_* environment and the name drainit was invoked by → what to do.
import { UsageError, parseDuration, type Config } from "../config.ts";
import { buildConfig } from "./build-config.ts";
import { helpText } from "./help.ts";
import { OPTIONS } from "./options.ts";
import { parseOptions } from "./parse.ts";
import { personalityOf, versionText } from "./personalities.ts";
import { Settings, unknownEnvironmentNames, type Environment } from "./settings.ts";

export type { Environment } from "./settings.ts";
export { personalityOf } from "./personalities.ts";
export { parseDrainHook } from "./drain-hook.ts";

export type Invocation =
  | { kind: "run"; config: Config; warnings: string[] }
  | { kind: "pause"; warnings: string[] }
  | { kind: "sleep"; ms: number }
  | { kind: "export-rootfs"; dir: string; as: string }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string };

/** --export-rootfs DIR [--as PATH], or null when not asked for. Utilities read no variable. */
function exportRootfsOf(settings: Settings, hasCommand: boolean): Invocation | null {
  const dir = settings.last("export-rootfs");
  const as = settings.last("as");
  if (dir === null) {
    if (as !== null) throw new UsageError("--as needs --export-rootfs");
    return null;
  }
  if (hasCommand) throw new UsageError("--export-rootfs takes no command");
  if (dir.text === "") throw new UsageError("--export-rootfs: empty directory");
  const target = as?.text ?? OPTIONS.as.default;
  if (!target.startsWith("/") || target.endsWith("/") || target.split("/").some((part) => part === "..")) {
    throw new UsageError(`--as: '${target}' is not an absolute file path inside the root`);
  }
  return { kind: "export-rootfs", dir: dir.text, as: target.replace(/\/+/g, "/") };
}

/** Parses drainit's arguments (argv without the program name). Throws UsageError on bad input. */
export function parseCommandLine(args: readonly string[], env: Environment, invokedAs: string): Invocation {
  const personality = personalityOf(invokedAs);
  const commandLine = parseOptions(args, personality);
  const settings = new Settings(commandLine, env);
  const command = [...commandLine.command];
  if (settings.given("help")) return { kind: "help", text: helpText() };
  if (settings.given("version") || settings.given("license") || settings.given("catatonit-license")) {
    return { kind: "version", text: versionText(personality) };
  }

  const exportInvocation = exportRootfsOf(settings, command.length > 0);
  if (exportInvocation) return exportInvocation;
  const sleep = settings.last("sleep");
  if (sleep !== null) {
    if (command.length) throw new UsageError("--sleep takes no command");
    return { kind: "sleep", ms: parseDuration(sleep.text, sleep.from) };
  }
  if (settings.given("pause")) {
    if (command.length) throw new UsageError("-P (pause mode) takes no command");
    return { kind: "pause", warnings: unknownEnvironmentNames(env) };
  }
  if (command.length === 0) throw new UsageError("no command given");
  const config = buildConfig(settings, env, personality, command);
  return { kind: "run", config, warnings: unknownEnvironmentNames(env) };
}

export function usageText(): string {
  return helpText();
}
