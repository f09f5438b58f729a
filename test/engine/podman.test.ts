// Podman (on runc, no daemon): drainit as the init of `podman run --init --init-path`, and as the
// ENTRYPOINT of an image: exit codes, and the drain on `podman stop`.
import { describe, expect, it } from "vitest";
import { DRAINIT, freePort, httpStatus, podman, sleep, stopAndObserve, useEngine, waitForStatus } from "./engine.ts";

const engine = useEngine(() => podman());

describe("podman run --init --init-path drainit", () => {
  const init = ["--init", "--init-path", DRAINIT, "drainit-test/busybox-glibc"];

  it("passes the exit code on, and 128+n for a signal", async () => {
    expect((await engine().runToEnd("podman-init-exit", [...init, "sh", "-c", "exit 3"])).code).toBe(3);
    expect((await engine().runToEnd("podman-init-signal", [...init, "sh", "-c", "kill -USR1 $$"])).code).toBe(128 + 10);
  });

  it("is silent, and podman stop ends the command with SIGTERM at once: exit 143", async () => {
    const name = await engine().start("podman-init-stop", [...init, "sleep", "600"]);
    await sleep(300);
    const { stopMs, code, output } = await stopAndObserve(engine(), name);
    expect(stopMs).toBeLessThan(3_000);
    expect(code).toBe(143);
    expect(output).toBe("");
  });
});

describe("podman, drainit as the ENTRYPOINT", () => {
  it("podman stop takes the drain: 200 from the app, 503 from --health, exit 143", async () => {
    const [appPort, healthPort] = [await freePort(), await freePort()];
    const name = await engine().start("podman-drain", [
      "drainit-test/drainit", "--drain", "2s", "--health", `127.0.0.1:${healthPort}`,
      "--", "httpd", "-f", "-p", `127.0.0.1:${appPort}`, "-h", "/www",
    ]);
    await waitForStatus(healthPort, "/healthz", 200);
    await waitForStatus(appPort, "/", 200);
    const stopAt = Date.now();
    const stopped = engine().ok(["stop", name]);
    const at503 = await waitForStatus(healthPort, "/healthz", 503, 2_000);
    expect(at503 - stopAt).toBeLessThan(1_000);
    expect(await httpStatus(appPort)).toBe(200);
    await stopped;
    const stopMs = Date.now() - stopAt;
    expect(Math.abs(stopMs - 2_000), `podman stop took ${stopMs} ms`).toBeLessThanOrEqual(500);
    expect(await engine().exitCode(name)).toBe(143);
  });

  it("the exit code of the command is the container's", async () => {
    const result = await engine().runToEnd("podman-exit", ["drainit-test/drainit", "--", "sh", "-c", "exit 9"]);
    expect(result.code).toBe(9);
  });
});
