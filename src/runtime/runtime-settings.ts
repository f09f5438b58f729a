// Settings the runtime needs to survive a container whose process limit the app has used up
// (pure: which they are, which are missing, and how to take them out of an environment again).
// The runtime starts helper threads on demand and aborts when the kernel refuses one, which, in
// PID 1, ends the container. Its garbage collector's helpers are needed at all only without the
// first two settings. The JIT worker, the block warm-up and the allocator's purge scavenger exit
// after about ten idle seconds and are started again under load (a signal flood after a quiet
// spell): the last three settings keep them from ever being needed. (Turning the JIT off is not
// an option: bun:ffi needs it.)

export const RUNTIME_SETTINGS: Readonly<Record<string, string>> = {
  BUN_JSC_useConcurrentGC: "0",
  BUN_JSC_numberOfGCMarkers: "1",
  BUN_JSC_useConcurrentJIT: "0",
  BUN_JSC_useWarmUpMarkedBlocks: "0",
  MIMALLOC_PURGE_DELAY: "0",
};

/** Names the restart added, comma-separated: the ones to take out of the child's environment. */
export const ADDED_SETTINGS_VARIABLE = "_DRAINIT_RUNTIME_SETTINGS";

const decoder = new TextDecoder();

function nameOf(entry: Uint8Array): string {
  const equals = entry.indexOf(0x3d);
  return decoder.decode(equals < 0 ? entry : entry.subarray(0, equals));
}

/** The environment without what the restart added: as drainit's caller gave it. */
export function withoutAddedSettings(entries: Uint8Array[]): Uint8Array[] {
  const marker = entries.find((entry) => nameOf(entry) === ADDED_SETTINGS_VARIABLE);
  if (!marker) return entries;
  const added = new Set(decoder.decode(marker.subarray(ADDED_SETTINGS_VARIABLE.length + 1)).split(","));
  added.add(ADDED_SETTINGS_VARIABLE);
  return entries.filter((entry) => !added.has(nameOf(entry)));
}

/** Settings still to add: none when the caller set them (theirs win) or the restart already did. */
export function missingSettings(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env[ADDED_SETTINGS_VARIABLE] !== undefined) return [];
  return Object.keys(RUNTIME_SETTINGS).filter((name) => env[name] === undefined);
}
