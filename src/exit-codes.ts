// Every exit code drainit itself chooses (the child's own code, or 128+N, is passed on as it is).
// The README's "Exit codes" section lists the same table.

/** --export-rootfs could not read or write a file. */
export const EXIT_EXPORT_FAILED = 1;
/** --probe: the target did not answer as healthy (refused, timeout, unexpected status, bad TLS). */
export const EXIT_PROBE_FAILED = 1;
/** A bad option, value or variable: nothing was started. */
export const EXIT_USAGE = 2;
/** drainit itself failed after the child started (after passing SIGTERM on and waiting). */
export const EXIT_INTERNAL_ERROR = 70;
/** The command exists but cannot be executed. */
export const EXIT_NOT_EXECUTABLE = 126;
/** The command was not found. */
export const EXIT_NOT_FOUND = 127;
