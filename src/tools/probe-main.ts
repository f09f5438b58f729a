// `drainit --probe ...`: parse, probe once, exit 0 or 1 (2 for bad arguments), one line on failure.
// Loaded by entry.ts without the init's code: only the option table's parser and the probe.
import { UsageError } from "../config.ts";
import { EXIT_USAGE } from "../exit-codes.ts";
import { writeStderr } from "../log.ts";
import { parseOptions } from "../cli/parse.ts";
import { probeOptionsOf } from "../cli/probe-options.ts";
import { probeRequestOf, probeThenExit, type ProbeRequest } from "./probe.ts";

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (error instanceof UsageError) {
    writeStderr(`drainit: ${message} (see drainit --help)\n`);
    process.exit(EXIT_USAGE);
  }
  writeStderr(`drainit: probe: internal error: ${message}\n`);
  process.exit(1);
}

let request: ProbeRequest | null = null;
try {
  request = probeRequestOf(probeOptionsOf(parseOptions(process.argv.slice(2), "drainit"))!);
} catch (error) {
  fail(error);
}
probeThenExit(request!, writeStderr).catch(fail);
