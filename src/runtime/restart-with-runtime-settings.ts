// Runs first: the runtime reads its settings only from the environment it starts with, so when
// those of runtime-settings.ts are unset, drainit starts itself again with them set (same pid,
// same arguments). The child and hooks get the environment without them (withoutAddedSettings).
// Signals are blocked from just before the exec until early-signals.ts has its handler in place:
// the mask survives the exec, so a signal sent in between waits instead of being lost (PID 1
// drops a signal it has no handler for) or killing drainit.
import { ADDED_SETTINGS_VARIABLE, RUNTIME_SETTINGS, missingSettings } from "./runtime-settings.ts";
import { keepInheritedAcrossExec } from "./keep-inherited-descriptors.ts";
import { blockAllSignals, execSelf, setProcessName, unblockAllSignals } from "../sys/libc.ts";
import { rawCommandLine, rawEnvironment } from "../sys/proc.ts";

const encoder = new TextEncoder();

function restartWithSettings(): void {
  if (process.env[ADDED_SETTINGS_VARIABLE] !== undefined) {
    // Restarted through /proc/self/exe, the kernel named the process "exe": give it back the
    // name it was started by, as ps showed it before the restart.
    setProcessName(process.argv0.split("/").pop() || "drainit");
    return;
  }
  const missing = missingSettings(process.env);
  if (missing.length === 0) return;
  const env = rawEnvironment();
  const commandLine = rawCommandLine();
  if (!env || !commandLine) return;
  const added = [
    ...missing.map((name) => encoder.encode(`${name}=${RUNTIME_SETTINGS[name]}`)),
    encoder.encode(`${ADDED_SETTINGS_VARIABLE}=${missing.join(",")}`),
  ];
  keepInheritedAcrossExec(true);
  blockAllSignals();
  // Returns only if the exec failed: then drainit runs on, as it would have without the settings.
  execSelf(commandLine, [...env, ...added]);
  unblockAllSignals();
  keepInheritedAcrossExec(false);
}

restartWithSettings();
