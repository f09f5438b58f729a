// drainit under the limits a platform puts on a container: a pids cgroup the app uses up, a
// memory limit the app runs past, a read-only root filesystem and a user that is not root.
import { describe, expect, it } from "vitest";
import { docker, freePort, httpStatus, sleep, stopAndObserve, useEngine, waitForStatus } from "./engine.ts";

const engine = useEngine(() => docker("docker"));

describe("--pids-limit", () => {
  it("the app forks until refused: drainit survives, drains on docker stop, exits with the child's code", async () => {
    // The FIFO is made before the forks: once the limit is used up, only builtins run.
    const app = [
      'trap "exit 7" TERM',
      "mkfifo /tmp/never && exec 3<>/tmp/never && rm /tmp/never",
      "( while :; do sleep 1000 & done ) 2>/dev/null",
      "echo refused",
      "while :; do read -t 1 _ <&3; done",
    ].join("\n");
    const name = await engine().start("pids", ["--pids-limit", "64", "drainit-test/drainit", "--drain", "1s", "--", "sh", "-c", app]);
    await engine().waitForLog(name, /refused/, 30_000);
    // Long enough for the runtime's idle helper threads to have ended and be wanted again.
    await sleep(12_000);
    expect(await engine().running(name)).toBe(true);
    const { stopMs, code, output } = await stopAndObserve(engine(), name);
    expect(code).toBe(7);
    expect(stopMs).toBeGreaterThanOrEqual(1_000);
    expect(stopMs).toBeLessThan(5_000);
    expect(output).not.toMatch(/panic|abort|Segmentation/i);
  }, 60_000);
});

describe("--memory", () => {
  const ALLOCATE = 'x=aaaaaaaaaaaaaaaa; while :; do x="$x$x"; done';

  async function outOfMemory(): Promise<{ code: number; oomKilled: boolean; stderr: string }> {
    const name = await engine().start("oom", ["--memory", "128m", "--memory-swap", "128m", "drainit-test/drainit", "-v", "--", "sh", "-c", ALLOCATE]);
    const code = await engine().wait(name, 60_000);
    const oomKilled = (await engine().ok(["inspect", "-f", "{{.State.OOMKilled}}", name])).trim() === "true";
    return { code, oomKilled, stderr: (await engine().logs(name)).stderr };
  }

  it("the app is OOM-killed: the container exits 137 and drainit does not crash", async () => {
    const { code, oomKilled, stderr } = await outOfMemory();
    expect(oomKilled).toBe(true);
    expect(code).toBe(137);
    // drainit itself ended normally: its exit line says the OOM killer's KILL ended the child.
    expect(stderr).toMatch(/child=killed\(KILL,oom\).*exit_code=137/);
    expect(stderr).not.toMatch(/panic|abort|Segmentation/i);
  });

  it("drainit names the out-of-memory kill, with the container's limit", async () => {
    const { stderr } = await outOfMemory();
    // memory.max on cgroup v2, memory.limit_in_bytes on v1 (or a hybrid host's memory hierarchy).
    const lines = stderr.split("\n").filter((line) => line.includes("out-of-memory"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^drainit: child killed by the out-of-memory killer \((memory\.max|memory\.limit_in_bytes) 128 MiB\)$/);
  });
});

describe("--read-only root and --user 65532:65532 (distroless nonroot)", () => {
  it("runs, serves --health on a port above 1024, drains and exits 143", async () => {
    const [appPort, healthPort] = [await freePort(), await freePort()];
    expect(healthPort).toBeGreaterThan(1024);
    const name = await engine().start("readonly", [
      "--read-only", "--user", "65532:65532",
      "drainit-test/drainit", "--drain", "2s", "--health", `127.0.0.1:${healthPort}`,
      "--", "httpd", "-f", "-p", `127.0.0.1:${appPort}`, "-h", "/www",
    ]);
    await waitForStatus(healthPort, "/healthz", 200);
    await waitForStatus(appPort, "/", 200);
    const user = await engine().ok(["exec", name, "id", "-u"]);
    expect(user.trim()).toBe("65532");
    const stopAt = Date.now();
    const stopped = engine().ok(["stop", name]);
    await waitForStatus(healthPort, "/healthz", 503, 1_000);
    expect(await httpStatus(appPort)).toBe(200);
    await stopped;
    expect(Date.now() - stopAt).toBeGreaterThanOrEqual(2_000);
    expect(await engine().exitCode(name)).toBe(143);
  });
});
