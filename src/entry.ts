// The executable's entry point. A health probe (`drainit --probe ...` first on the command line,
// run every few seconds in every container) loads only its own code: not the init's, not the
// restart with runtime settings, not the libc bindings. Everything else loads the init (main.ts).
// The build puts each in a chunk of its own, read only when imported.
const first = process.argv[2] ?? "";
// A probe takes no command, so a command line that starts with --probe cannot be a run.
if (first === "--probe" || first.startsWith("--probe=")) void import("./tools/probe-main.ts");
else void import("./main.ts");
