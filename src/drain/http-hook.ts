// The drain hook as an HTTP call: POST to the URL, report the status. Never rejects.
import type { HookOutcome } from "../supervisor/timeline.ts";

export function postDrainHook(url: string): { outcome: Promise<HookOutcome>; cancel(): void } {
  const controller = new AbortController();
  const outcome = fetch(url, { method: "POST", signal: controller.signal, redirect: "manual" })
    .then(async (response): Promise<HookOutcome> => {
      // Drain the body so the connection is released; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      return { kind: "http", status: response.status };
    })
    .catch((error: unknown): HookOutcome => ({
      kind: "failed",
      reason: `POST ${url}: ${error instanceof Error ? error.message : String(error)}`,
    }));
  return { outcome, cancel: () => controller.abort() };
}
