// A rolling update with real containers behind HAProxy, as an orchestrator does it: start the new
// container, wait for its health, `docker stop` the old one, and take it out of the load balancer
// a lag later (the endpoints controller, the cloud load balancer). With drainit --drain the old
// container keeps serving through the lag: no request fails. With `docker run --init` (Docker's
// tini) the app stops at once and the requests sent to it during the lag fail. Same run, same load.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, docker, freePort, keepResult, sleep, useEngine, waitForStatus } from "./engine.ts";

const engine = useEngine(() => docker("docker"));

interface Balancer {
  start(): Promise<void>;
  add(instance: object): Promise<void>;
  remove(instance: object): Promise<void>;
  stop(): Promise<void>;
}
interface Load {
  start(durationMs: number): void;
  finished(): Promise<{ kind: string }[]>;
}
// The rollover benchmark's own load balancer driver and open-loop load generator.
const lib = join(ROOT, "bench", "rollover", "lib");
const { HaproxyBalancer } = (await import(join(lib, "haproxy.mjs"))) as {
  HaproxyBalancer: new (options: { frontend: { host: string; port: number }; retries: boolean }) => Balancer;
};
const { LoadGenerator } = (await import(join(lib, "load.mjs"))) as {
  LoadGenerator: new (options: { host: string; port: number; ratePerSecond: number }) => Load;
};

const LAG_MS = 1_000;
const RATE = 100;

const balancers: Balancer[] = [];
afterAll(async () => {
  for (const balancer of balancers) await balancer.stop();
});

interface Instance {
  host: string;
  port: number;
  name: string;
}

/** Starts one app container; resolves once it is ready the way its set-up tells readiness. */
async function startApp(kind: "drainit" | "tini"): Promise<Instance> {
  const port = await freePort();
  const httpd = ["httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", "/www"];
  if (kind === "drainit") {
    const health = await freePort();
    const name = await engine().start("roll", ["drainit-test/drainit", "--drain", "2s", "--health", `127.0.0.1:${health}`, "--", ...httpd]);
    await waitForStatus(health, "/healthz", 200);
    return { host: "127.0.0.1", port, name };
  }
  const name = await engine().start("roll", ["--init", "drainit-test/busybox", ...httpd]);
  await waitForStatus(port, "/", 200);
  return { host: "127.0.0.1", port, name };
}

/** One rollover from an old container to a new one under steady load; the failed requests. */
async function rollover(kind: "drainit" | "tini"): Promise<{ sent: number; failed: number; kinds: string[] }> {
  const frontend = { host: "127.0.0.1", port: await freePort() };
  const balancer = new HaproxyBalancer({ frontend, retries: false });
  balancers.push(balancer);
  await balancer.start();
  const old = await startApp(kind);
  await balancer.add(old);
  const load = new LoadGenerator({ ...frontend, ratePerSecond: RATE });
  load.start(6_000);
  await sleep(1_000);
  const next = await startApp(kind);
  await balancer.add(next);
  const stopped = engine().ok(["stop", old.name]);
  await sleep(LAG_MS);
  await balancer.remove(old);
  await stopped;
  const records = await load.finished();
  const failures = records.filter((r) => r.kind !== "ok");
  return { sent: records.length, failed: failures.length, kinds: [...new Set(failures.map((f) => f.kind))] };
}

describe("rolling update behind HAProxy, lag 1 s", () => {
  it("0 failed requests with drainit --drain 2s, more than 0 with docker run --init, same run", async () => {
    const withDrainit = await rollover("drainit");
    const withTini = await rollover("tini");
    keepResult(
      "rolling-update",
      [
        `drainit --drain 2s\t${withDrainit.failed} failed of ${withDrainit.sent}`,
        `docker run --init (tini)\t${withTini.failed} failed of ${withTini.sent} (${withTini.kinds.join(", ")})`,
      ].join("\n"),
    );
    expect(withDrainit.sent).toBeGreaterThan(500);
    expect(withDrainit.failed).toBe(0);
    expect(withTini.sent).toBeGreaterThan(500);
    expect(withTini.failed).toBeGreaterThan(0);
  }, 90_000);
});
