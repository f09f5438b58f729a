import { describe, expect, it } from "vitest";
import {
  ADDED_SETTINGS_VARIABLE,
  RUNTIME_SETTINGS,
  missingSettings,
  withoutAddedSettings,
} from "../../src/runtime/runtime-settings.ts";

const bytes = (...entries: string[]) => entries.map((entry) => new TextEncoder().encode(entry));
const text = (entries: Uint8Array[]) => entries.map((entry) => new TextDecoder().decode(entry));

describe("runtime settings", () => {
  it("are all missing from an environment that has none of them", () => {
    expect(missingSettings({ PATH: "/bin" })).toEqual(Object.keys(RUNTIME_SETTINGS));
  });

  it("leave the caller's own values alone", () => {
    expect(missingSettings({ BUN_JSC_useConcurrentGC: "1", MIMALLOC_PURGE_DELAY: "10" })).toEqual([
      "BUN_JSC_numberOfGCMarkers",
      "BUN_JSC_useConcurrentJIT",
      "BUN_JSC_useWarmUpMarkedBlocks",
    ]);
  });

  it("include those that leave no helper thread to start again after an idle spell", () => {
    expect(RUNTIME_SETTINGS).toMatchObject({
      BUN_JSC_useConcurrentJIT: "0",
      BUN_JSC_useWarmUpMarkedBlocks: "0",
      MIMALLOC_PURGE_DELAY: "0",
    });
  });

  it("are not added twice: after the restart nothing is missing", () => {
    expect(missingSettings({ [ADDED_SETTINGS_VARIABLE]: "BUN_JSC_useConcurrentGC" })).toEqual([]);
  });

  it("are taken out of the child's environment, with the marker, and nothing else is", () => {
    const env = bytes(
      "PATH=/bin",
      "BUN_JSC_useConcurrentGC=1",
      "BUN_JSC_numberOfGCMarkers=1",
      "MIMALLOC_PURGE_DELAY=0",
      "EMPTY=",
      `${ADDED_SETTINGS_VARIABLE}=BUN_JSC_numberOfGCMarkers,MIMALLOC_PURGE_DELAY`,
    );
    expect(text(withoutAddedSettings(env))).toEqual(["PATH=/bin", "BUN_JSC_useConcurrentGC=1", "EMPTY="]);
  });

  it("leave an environment without the marker as it is", () => {
    const env = bytes("BUN_JSC_numberOfGCMarkers=4", "A=b=c");
    expect(withoutAddedSettings(env)).toBe(env);
  });
});
