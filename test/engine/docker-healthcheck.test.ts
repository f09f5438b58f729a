// The Dockerfile HEALTHCHECK of an image with no curl, wget or shell in the check: drainit --probe,
// exec form. The engine's own view (docker inspect) goes healthy, then unhealthy when the app
// stops answering 2xx, with drainit's one line in the health log.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { docker, freePort, sleep, useEngine } from "./engine.ts";

const engine = useEngine(() => docker("docker"));

async function healthOf(name: string): Promise<{ status: string; lastOutput: string }> {
  const json = await engine().ok(["inspect", "-f", "{{json .State.Health}}", name]);
  const health = JSON.parse(json) as { Status: string; Log: Array<{ Output: string }> | null };
  return { status: health.Status, lastOutput: health.Log?.at(-1)?.Output ?? "" };
}

async function untilHealth(name: string, wanted: string, timeoutMs = 30_000): Promise<{ status: string; lastOutput: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await healthOf(name);
    if (health.status === wanted) return health;
    if (Date.now() > deadline) throw new Error(`${name} never became ${wanted}: ${JSON.stringify(health)}`);
    await sleep(200);
  }
}

describe("HEALTHCHECK CMD [\"/drainit\", \"--probe\", URL]", () => {
  it("docker inspect shows healthy, then unhealthy with drainit's reason when the app answers 404", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const context = mkdtempSync(join(tmpdir(), "drainit-healthcheck-"));
    writeFileSync(
      join(context, "Dockerfile"),
      [
        // Through a build argument, so that the image is built again when the base changed.
        "ARG BASE",
        "FROM ${BASE}",
        `HEALTHCHECK --interval=1s --timeout=3s --retries=1 CMD ["/drainit", "--probe", "${url}"]`,
        "",
      ].join("\n"),
    );
    try {
      await engine().build("drainit-test/healthcheck", context, { BASE: "drainit-test/drainit" });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    const name = await engine().start("healthcheck", [
      "drainit-test/healthcheck", "--", "httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", "/www",
    ]);
    expect((await untilHealth(name, "healthy")).status).toBe("healthy");

    // The app keeps running but stops answering 2xx: the page it serves is gone.
    await engine().ok(["exec", name, "rm", "/www/index.html"]);
    const unhealthy = await untilHealth(name, "unhealthy");
    expect(unhealthy.lastOutput).toMatch(/^drainit: probe http:\/\/127\.0\.0\.1:\d+\/: status 40[34]\n$/);
    expect(await engine().running(name)).toBe(true);
  }, 120_000);
});
