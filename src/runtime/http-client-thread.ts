// The runtime runs every fetch on one thread of its own, started by the first fetch. Started only
// during the drain, it could fail (the app may have used up the container's process limit by then),
// and the runtime exits when it does. So drainit starts it before the app, when it will need it.

/** The loopback discard port: the request goes nowhere, and is refused or cut off at once. */
const NOWHERE = "http://127.0.0.1:9/";

export function startHttpClientThread(): void {
  fetch(NOWHERE, { method: "HEAD", signal: AbortSignal.timeout(100) }).then(
    () => undefined,
    () => undefined,
  );
}
