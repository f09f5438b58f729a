// --drain MIN..MAX --drain-until-idle IDLE, as PID 1: the stop signal is forwarded once the
// app's ports saw no traffic for IDLE — new connections and data on a kept-alive one alike.
import { createServer as createHttpServer, request, Agent } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPERS, freePort, trackedRuns, sleep, type InitRun } from "./harness.ts";

const start = trackedRuns();

function get(port: number, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Sends a request every `everyMs` until `forMs` has passed; returns when the last one was sent. */
async function sendFor(port: number, agent: Agent | false | (() => Agent), forMs: number, everyMs = 100): Promise<number> {
  const end = Date.now() + forMs;
  let last = Date.now();
  while (Date.now() < end) {
    last = Date.now();
    expect(await get(port, typeof agent === "function" ? agent() : agent)).toBe(200);
    await sleep(everyMs);
  }
  return last;
}

/**
 * A new connection for each request, which the client keeps open: one that the client opens and
 * closes between two looks leaves no socket on the app's side (README: what drainit cannot see).
 */
function newConnections(): { next: () => Agent; close: () => void } {
  const agents: Agent[] = [];
  return {
    next: () => {
      agents.push(new Agent({ keepAlive: true, maxSockets: 1 }));
      return agents.at(-1)!;
    },
    close: () => agents.forEach((agent) => agent.destroy()),
  };
}

async function startApp(drainArgs: string[]): Promise<{ run: InitRun; port: number }> {
  const port = await freePort();
  const run = start([...drainArgs, "--", process.execPath, join(HELPERS, "idle-app.mjs"), String(port)]);
  await run.waitForOutput(/listening/);
  return { run, port };
}

async function forwardedAt(run: InitRun): Promise<number> {
  return Number((await run.waitForOutput(/TERM (\d+)/, "stdout", 20_000)).split(" ")[1]);
}

describe("adaptive drain", () => {
  it("forwards IDLE after the last new connection, not before", async () => {
    const { run, port } = await startApp(["--drain", "1s..15s", "--drain-until-idle", "2s"]);
    const stopAt = Date.now();
    await run.signal("SIGTERM");
    const connections = newConnections();
    const lastRequest = await sendFor(port, connections.next, 3_000);
    const forwarded = await forwardedAt(run);
    connections.close();
    expect(forwarded - lastRequest).toBeGreaterThanOrEqual(2_000 - 50);
    expect(forwarded - lastRequest).toBeLessThan(2_000 + 200 + 800);
    expect(forwarded - stopAt).toBeLessThan(15_000);
    expect((await run.finished).code).toBe(0);
    expect(run.stderr).toMatch(/drain ended: no traffic for 2000ms/);
  });

  it("sees requests on one kept-alive connection as traffic", async () => {
    const { run, port } = await startApp(["--drain", "1s..15s", "--drain-until-idle", "2s"]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(port, agent);
    await run.signal("SIGTERM");
    const lastRequest = await sendFor(port, agent, 3_000);
    const forwarded = await forwardedAt(run);
    agent.destroy();
    expect(forwarded - lastRequest).toBeGreaterThanOrEqual(2_000 - 50);
    expect(forwarded - lastRequest).toBeLessThan(2_000 + 200 + 800);
    expect((await run.finished).code).toBe(0);
  });

  it("keeps serving at least MIN when there is no traffic at all", async () => {
    const { run } = await startApp(["--drain", "2s..15s", "--drain-until-idle", "500ms"]);
    const stopAt = Date.now();
    await run.signal("SIGTERM");
    const forwarded = await forwardedAt(run);
    expect(forwarded - stopAt).toBeGreaterThanOrEqual(2_000 - 50);
    expect(forwarded - stopAt).toBeLessThan(2_000 + 200 + 800);
  });

  it("forwards at MAX when the traffic never stops", async () => {
    const { run, port } = await startApp(["--drain", "500ms..2s", "--drain-until-idle", "1s"]);
    const stopAt = Date.now();
    await run.signal("SIGTERM");
    const connections = newConnections();
    const sending = sendFor(port, connections.next, 4_000).catch(() => 0);
    const forwarded = await forwardedAt(run);
    await sending;
    connections.close();
    expect(forwarded - stopAt).toBeGreaterThanOrEqual(2_000 - 50);
    expect(forwarded - stopAt).toBeLessThan(2_000 + 800);
    expect(run.stderr).toMatch(/drain ended: MAX reached/);
  });

  it("watches only the ports given with --drain-port", async () => {
    const otherPort = await freePort();
    const { run, port } = await startApp([
      "--drain", "1s..15s", "--drain-until-idle", "1s", "--drain-port", String(otherPort),
    ]);
    const stopAt = Date.now();
    await run.signal("SIGTERM");
    // Traffic on the app's own port does not count: only otherPort is watched.
    const sending = sendFor(port, false, 3_000).catch(() => 0);
    const forwarded = await forwardedAt(run);
    await sending;
    expect(forwarded - stopAt).toBeLessThan(1_000 + 1_000 + 800);
  });

  it("does not count traffic to another address listening on the same port", async () => {
    const { run, port } = await startApp(["--drain", "1s..8s", "--drain-until-idle", "1s"]);
    // A neighbour sharing the network namespace, on the app's port at another loopback address,
    // busy on a kept-alive connection for the whole drain: none of that is the app's traffic.
    const neighbour = createHttpServer((req, res) => req.resume().on("end", () => res.end("ok\n")));
    await new Promise<void>((resolve) => neighbour.listen(port, "127.0.0.2", resolve));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const stopAt = Date.now();
    await run.signal("SIGTERM");
    let busy = true;
    const sending = (async () => {
      while (busy) {
        await new Promise((resolve, reject) =>
          request({ host: "127.0.0.2", port, path: "/", agent }, (r) => r.resume().on("end", resolve)).on("error", reject).end(),
        );
        await sleep(100);
      }
    })();
    try {
      const forwarded = await forwardedAt(run);
      expect(forwarded - stopAt).toBeLessThan(1_000 + 1_000 + 800);
      expect(run.stderr).toMatch(/drain ended: no traffic for 1000ms/);
    } finally {
      busy = false;
      await sending;
      agent.destroy();
      neighbour.closeAllConnections();
      await new Promise((resolve) => neighbour.close(resolve));
    }
  });
});
