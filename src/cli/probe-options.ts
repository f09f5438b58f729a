// --probe and the options that go with it, from the parsed command line. Shared by the init's
// parser (cli.ts) and the probe's own entry (tools/probe-main.ts), which loads nothing else.
import { UsageError } from "../config.ts";
import type { ProbeOptions } from "../tools/probe.ts";
import type { OptionName } from "./options.ts";
import type { CommandLine } from "./parse.ts";

const WITH_PROBE_ONLY: readonly OptionName[] = ["expect", "timeout", "header"];

/** The probe's options when --probe is given, else null; a usage error for anything that does not go with them. */
export function probeOptionsOf(commandLine: CommandLine): ProbeOptions | null {
  const texts = (name: OptionName) => (commandLine.options.get(name) ?? []).map((given) => given.text);
  const targets = texts("probe");
  if (targets.length === 0) {
    const stray = WITH_PROBE_ONLY.find((name) => commandLine.options.has(name));
    if (stray) throw new UsageError(`--${stray} needs --probe`);
    return null;
  }
  if (targets.length > 1) throw new UsageError("--probe is given twice");
  for (const name of commandLine.options.keys()) {
    if (name !== "probe" && !WITH_PROBE_ONLY.includes(name)) {
      throw new UsageError(`--probe takes no --${name} (only --expect, --timeout, --header)`);
    }
  }
  if (commandLine.command.length > 0) throw new UsageError("--probe takes no command");
  return { target: targets[0]!, expect: texts("expect"), timeout: texts("timeout").at(-1) ?? null, headers: texts("header") };
}
