// The drain hook as an HTTP call: POST to the URL, report the status. `answered` gets the
// outcome once, from the promise's own turn; a failure is an outcome, never a rejection.
import type { HookOutcome } from "../supervisor/timeline.ts";
import { describeError } from "../log.ts";

export function postDrainHook(url: string, answered: (outcome: HookOutcome) => void): { cancel(): void } {
  const controller = new AbortController();
  void fetch(url, { method: "POST", signal: controller.signal, redirect: "manual" })
    .then(async (response): Promise<HookOutcome> => {
      // Drain the body so the connection is released; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      return { kind: "http", status: response.status };
    })
    .catch((error: unknown): HookOutcome => ({
      kind: "failed",
      reason: `POST ${url}: ${describeError(error)}`,
    }))
    .then(answered);
  return { cancel: () => controller.abort() };
}
