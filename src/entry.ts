// The executable's entry point. A health probe (`drainit --probe ...`, run every few seconds in
// every container) loads only its own code; everything else loads the init (main.ts). The build
// puts each in a chunk of its own, read only when imported.
import { isProbeCommandLine } from "./tools/probe-command-line.ts";

if (isProbeCommandLine(process.argv.slice(2))) void import("./tools/probe-main.ts");
else void import("./main.ts");
