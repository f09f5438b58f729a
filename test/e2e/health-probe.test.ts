// Load balancers probe health the old way: HAProxy's `option httpchk GET /healthz` sends
// an HTTP/1.0 request without a Host header. drainit's --health must answer it like any
// other request: 200 while running, 503 once draining.
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, trackedRuns } from "./harness.ts";

const start = trackedRuns();

/** Sends `request` verbatim and returns the status code of the answer (0: none). */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setTimeout(2_000, () => socket.destroy());
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: string) => {
      answer += chunk;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on("error", () => resolve(0));
    socket.on("close", () => resolve(0));
  });
}

const HTTP10_PROBE = "GET /healthz HTTP/1.0\r\n\r\n";

describe("--health answers HTTP/1.0 probes without Host", () => {
  it("200 while running, 503 once draining", async () => {
    const port = await freePort();
    const run = start(["--health", `127.0.0.1:${port}`, "--drain", "5s", "--", "sleep", "30"]);
      const first = await pollStatus(port, (status) => status !== 0);
    expect(first).toBe(200);
    expect(await rawStatus(port, "GET /other HTTP/1.0\r\n\r\n")).toBe(404);

    await run.signal("SIGTERM");
    expect(await pollStatus(port, (status) => status === 503)).toBe(503);
  });
});

/** Probes until `done(status)` holds or 5 s pass; returns the last status. */
async function pollStatus(port: number, done: (status: number) => boolean): Promise<number> {
  const deadline = Date.now() + 5_000;
  let status = 0;
  while (Date.now() < deadline) {
    status = await rawStatus(port, HTTP10_PROBE);
    if (done(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return status;
}
