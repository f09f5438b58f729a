// `docker stop` on an image whose ENTRYPOINT is drainit: the stop takes the drain, the app keeps
// answering while /healthz says 503, and the container exits 143. The same app without drainit
// waits out the engine's timeout and is killed (137).
import { describe, expect, it } from "vitest";
import { docker, freePort, httpStatus, keepResult, sleep, stopAndObserve, useEngine, waitForStatus } from "./engine.ts";

const engine = useEngine(() => docker("docker"));

interface Sample {
  sentAt: number;
  status: number;
}

/** GETs `path` every `everyMs` until stopped; every answer with the time it was sent. */
function poll(port: number, path: string, everyMs: number): { samples: Sample[]; stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sentAt = Date.now();
      samples.push({ sentAt, status: await httpStatus(port, path, 1_000) });
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

describe("docker stop", () => {
  it("takes the drain: 200 from the app throughout, 503 from --health within 200 ms, exit 143", async () => {
    const [appPort, healthPort] = [await freePort(), await freePort()];
    const DRAIN_MS = 3_000;
    const name = await engine().start("stop-drain", [
      "drainit-test/drainit",
      "--drain", "3s", "--health", `127.0.0.1:${healthPort}`,
      "--", "httpd", "-f", "-p", `127.0.0.1:${appPort}`, "-h", "/www",
    ]);
    await waitForStatus(appPort, "/", 200);
    await waitForStatus(healthPort, "/healthz", 200);

    const app = poll(appPort, "/", 50);
    const health = poll(healthPort, "/healthz", 10);
    const stopAt = Date.now();
    await engine().ok(["stop", name]);
    const stopMs = Date.now() - stopAt;
    const appSamples = await app.stop();
    const healthSamples = await health.stop();

    const first503 = healthSamples.find((s) => s.sentAt >= stopAt && s.status === 503);
    const duringDrain = appSamples.filter((s) => s.sentAt >= stopAt && s.sentAt < stopAt + DRAIN_MS - 300);
    const exitCode = await engine().exitCode(name);
    keepResult(
      "docker-stop-drain",
      `docker stop ${stopMs} ms; app ${duringDrain.filter((s) => s.status === 200).length}/${duringDrain.length} 200 during the drain; ` +
        `/healthz 503 from +${first503 ? first503.sentAt - stopAt : "never"} ms; exit ${exitCode}`,
    );
    expect(Math.abs(stopMs - DRAIN_MS), `docker stop took ${stopMs} ms`).toBeLessThanOrEqual(500);
    expect(duringDrain.length).toBeGreaterThan(20);
    expect(duringDrain.filter((s) => s.status !== 200)).toEqual([]);
    expect(first503, "no 503 from /healthz during the drain").toBeDefined();
    expect(first503!.sentAt - stopAt).toBeLessThanOrEqual(200);
    expect(exitCode).toBe(143);
  });

  it("without drainit: the engine's timeout, then SIGKILL (137)", async () => {
    const appPort = await freePort();
    // busybox httpd as PID 1 has no SIGTERM handler, so the kernel drops the signal.
    const name = await engine().start("stop-bare", ["drainit-test/busybox", "httpd", "-f", "-p", `127.0.0.1:${appPort}`, "-h", "/www"]);
    await waitForStatus(appPort, "/", 200);
    const { stopMs, code } = await stopAndObserve(engine(), name);
    keepResult("docker-stop-bare", `docker stop ${stopMs} ms; exit ${code}`);
    // Docker's default stop timeout is 10 s.
    expect(stopMs).toBeGreaterThanOrEqual(10_000);
    expect(stopMs).toBeLessThan(12_000);
    expect(code).toBe(137);
  });

  it("docker stop -t 2 against a 3 s drain with --budget 2s: forwards in time, exit 143 not 137", async () => {
    const appPort = await freePort();
    const name = await engine().start("stop-budget", [
      "drainit-test/drainit",
      "--drain", "3s", "--budget", "2s",
      "--", "httpd", "-f", "-p", `127.0.0.1:${appPort}`, "-h", "/www",
    ]);
    await waitForStatus(appPort, "/", 200);
    const { stopMs, code, output } = await stopAndObserve(engine(), name, ["-t", "2"]);
    keepResult("docker-stop-budget", `docker stop -t 2: ${stopMs} ms; exit ${code}`);
    expect(code).toBe(143);
    expect(stopMs).toBeLessThan(2_000);
    expect(output).toMatch(/budget/);
  });
});
