// Whether drainit was started as a health probe: the first argument is --probe.

/**
 * A command line that starts with --probe: the probe then skips what only an init needs (the
 * restart with runtime settings, the init's code). It cannot be a run: a probe takes no command.
 */
export function isProbeCommandLine(args: readonly string[]): boolean {
  const first = args[0] ?? "";
  return first === "--probe" || first.startsWith("--probe=");
}
