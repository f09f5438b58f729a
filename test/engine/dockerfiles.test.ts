// Every Dockerfile of the repository, built for real (offline: the base images replaced through
// their build arguments by local stand-ins, drainit installed by npm from a loopback registry that
// serves this checkout's build) and run: the app answers, and `docker stop` drains.
// The containers have no network of their own but a loopback shared with a probe container
// (--network container:PROBE), so the examples keep their fixed ports without meeting anything
// else on this machine; the probe's busybox nc asks them.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildGoBase, buildNginxBase, buildNodeBaseWithRegistry } from "./bases.ts";
import { ROOT, buildTestImages, docker, sleep, useEngine, type Engine } from "./engine.ts";
import { NpmRegistry } from "./npm-registry.ts";

const execFileAsync = promisify(execFile);
const registry = new NpmRegistry();
const bases = { node: "", nginx: "", go: "" };

const engine = useEngine(
  () => docker("docker"),
  async (engine) => {
    await buildTestImages(engine);
    await registry.start();
    bases.node = await buildNodeBaseWithRegistry(engine, registry.url);
    bases.nginx = await buildNginxBase(engine);
    bases.go = await buildGoBase(engine);
  },
);

const contexts: string[] = [];
afterAll(async () => {
  await registry.stop();
  for (const dir of contexts) rmSync(dir, { recursive: true, force: true });
});

function context(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `drainit-dockerfile-${what}-`));
  contexts.push(dir);
  return dir;
}

/**
 * The status of GET url asked from inside the probe container (0: no answer). busybox nc, not its
 * wget (whose name lookup crashes in the static build); the request's side stays open a moment,
 * since Node's server drops a connection half-closed before it answers.
 */
async function statusFrom(engine: Engine, probe: string, url: string): Promise<number> {
  const { port, pathname } = new URL(url);
  const script = `{ printf 'GET ${pathname} HTTP/1.0\\r\\n\\r\\n'; sleep 0.3; } | nc 127.0.0.1 ${port} | head -n 1`;
  const result = await engine.cli(["exec", probe, "sh", "-c", script]);
  return Number(/^HTTP\/1\.\d (\d{3})/.exec(result.stdout)?.[1] ?? 0);
}

async function waitForStatusFrom(engine: Engine, probe: string, url: string, status: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await statusFrom(engine, probe, url)) === status) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url} to answer ${status}`);
    await sleep(50);
  }
}

/** A probe container with a loopback of its own, for the example to share. */
function probe(): Promise<string> {
  return engine().start("probe", ["--network", "none", "drainit-test/busybox", "sleep", "600"]);
}

interface StopCheck {
  app: string;
  health?: string;
  drainMs: number;
  exitCode: number;
}

/** Runs the image next to a probe, checks it serves, stops it and checks the drain and the exit code. */
async function runAndStop(image: string, check: StopCheck, args: string[] = []): Promise<{ logs: string }> {
  const probeName = await probe();
  const name = await engine().start("example", ["--network", `container:${probeName}`, ...args, image]);
  await waitForStatusFrom(engine(), probeName, check.app, 200);
  if (check.health) await waitForStatusFrom(engine(), probeName, check.health, 200);
  const stopAt = Date.now();
  const stopped = engine().ok(["stop", "-t", "60", name], 90_000);
  if (check.health) await waitForStatusFrom(engine(), probeName, check.health, 503, 3_000);
  await sleep(500);
  expect(await statusFrom(engine(), probeName, check.app), "the app during the drain").toBe(200);
  await stopped;
  const stopMs = Date.now() - stopAt;
  expect(stopMs).toBeGreaterThanOrEqual(check.drainMs);
  expect(stopMs).toBeLessThan(check.drainMs + 5_000);
  expect(await engine().exitCode(name)).toBe(check.exitCode);
  const logs = await engine().logs(name);
  return { logs: logs.stdout + logs.stderr };
}

describe("examples/node-http/Dockerfile", () => {
  it("builds on a local Node base, installs drainit with npm, runs, drains 5 s on docker stop, exit 0", async () => {
    const dir = context("node-http");
    cpSync(join(ROOT, "examples", "node-http"), dir, { recursive: true });
    await engine().build("drainit-test/example-node-http", dir, { BASE: bases.node });
    const { logs } = await runAndStop("drainit-test/example-node-http", {
      app: "http://127.0.0.1:8080/",
      health: "http://127.0.0.1:9090/healthz",
      drainMs: 5_000,
      exitCode: 0,
    });
    expect(logs).toContain("SIGTERM: closing");
  }, 300_000);
});

describe("examples/nginx/Dockerfile", () => {
  it("builds on local Node and nginx bases, runs nginx, drains 5 s, stops it with QUIT: exit 0", async () => {
    const dir = context("nginx");
    cpSync(join(ROOT, "examples", "nginx"), dir, { recursive: true });
    await engine().build("drainit-test/example-nginx", dir, { NODE_BASE: bases.node, NGINX_BASE: bases.nginx });
    const { logs } = await runAndStop("drainit-test/example-nginx", { app: "http://127.0.0.1:8080/", drainMs: 5_000, exitCode: 0 });
    // nginx's notice for the graceful stop drainit asked for with --rewrite TERM:QUIT.
    expect(logs).toMatch(/signal 3 \(SIGQUIT\) received/);
  }, 300_000);
});

describe("Dockerfile.example", () => {
  it("--target node-app: the Node case, built and run: drains 5 s, exit 0", async () => {
    const dir = context("example-node");
    for (const file of ["package.json", "server.js"]) cpSync(join(ROOT, "examples", "node-http", file), join(dir, file));
    cpSync(join(ROOT, "Dockerfile.example"), join(dir, "Dockerfile"));
    // npm ci needs a lock file: made against the same loopback registry.
    // Not execFileSync: the registry answers from this very process.
    await execFileAsync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund", "--registry", registry.url], { cwd: dir });
    await engine().build("drainit-test/example-node-app", dir, { NODE_BASE: bases.node, GO_BASE: bases.go }, ["--target", "node-app"]);
    const { logs } = await runAndStop("drainit-test/example-node-app", { app: "http://127.0.0.1:8080/", drainMs: 5_000, exitCode: 0 });
    expect(logs).toContain("SIGTERM: closing");
  }, 300_000);

  it("--target scratch-app: a static Go app in a scratch image with drainit's export: drains 10 s, exit 143", async () => {
    const dir = context("example-scratch");
    cpSync(join(ROOT, "Dockerfile.example"), join(dir, "Dockerfile"));
    mkdirSync(join(dir, "cmd", "server"), { recursive: true });
    writeFileSync(join(dir, "go.mod"), "module example.com/server\n\ngo 1.19\n");
    writeFileSync(
      join(dir, "cmd", "server", "main.go"),
      [
        "package main",
        "",
        'import "net/http"',
        "",
        "func main() {",
        '\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\\n")) })',
        '\tpanic(http.ListenAndServe("127.0.0.1:8080", nil))',
        "}",
        "",
      ].join("\n"),
    );
    await engine().build("drainit-test/example-scratch-app", dir, { NODE_BASE: bases.node, GO_BASE: bases.go }, ["--target", "scratch-app"]);
    // The Go app has no SIGTERM handler: it dies by the signal drainit forwards after the drain.
    await runAndStop("drainit-test/example-scratch-app", {
      app: "http://127.0.0.1:8080/",
      health: "http://127.0.0.1:9090/healthz",
      drainMs: 10_000,
      exitCode: 143,
    });
  }, 300_000);
});
