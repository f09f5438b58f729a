// `drainit --probe ...`: parse, probe once, exit 0 or 1 (2 for bad arguments), one line on failure.
// Loaded by entry.ts without the init's code: only the option table's parser and the probe.
import { UsageError } from "../config.ts";
import { EXIT_PROBE_FAILED } from "../exit-codes.ts";
import { describeError, exitWithUsageError, writeStderr } from "../log.ts";
import { parseOptions } from "../cli/parse.ts";
import { probeOptionsOf } from "../cli/probe-options.ts";
import { probeRequestOf, probeThenExit, type ProbeRequest } from "./probe.ts";

function fail(error: unknown): never {
  if (error instanceof UsageError) exitWithUsageError(error);
  writeStderr(`drainit: probe: internal error: ${describeError(error)}\n`);
  process.exit(EXIT_PROBE_FAILED);
}

let request: ProbeRequest | null = null;
try {
  request = probeRequestOf(probeOptionsOf(parseOptions(process.argv.slice(2), "drainit"))!);
} catch (error) {
  fail(error);
}
probeThenExit(request!, writeStderr).catch(fail);
