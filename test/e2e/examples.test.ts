// The examples' own command lines (Dockerfile ENTRYPOINT + CMD, Procfile web: line), run as
// PID 1 with the built binary against the real programs: Node, Debian's nginx.
import { spawnSync } from "node:child_process";
import { createServer, request } from "node:http";
import { connect } from "node:net";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DRAINIT, ROOT, freePort, runInit, runToExit, sleep } from "./harness.ts";

const EXAMPLES = join(ROOT, "examples");
// nginx lives in /usr/sbin, which a non-login PATH may lack.
const HOST_PATH = `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin`;


interface Response {
  status: number;
  bytes: number;
  complete: boolean;
}

/** One GET on a fresh connection; `complete` says whether the body arrived in full. */
function get(port: number, path: string, timeoutMs = 30_000): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, bytes, complete: false }));
      res.on("aborted", () => resolve({ status: res.statusCode ?? 0, bytes, complete: false }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** The exec-form array of a Dockerfile instruction (ENTRYPOINT or CMD). */
function dockerfileArray(dockerfile: string, instruction: string): string[] {
  const line = readFileSync(dockerfile, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${instruction} `));
  if (!line) throw new Error(`${dockerfile} has no ${instruction}`);
  return JSON.parse(line.slice(instruction.length + 1)) as string[];
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "drainit-examples-"));
  chmodSync(work, 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("examples/node-http", () => {
  it("runs the Dockerfile's command: 503 on SIGTERM, serves through the drain, finishes the request in flight", async () => {
    const dir = join(EXAMPLES, "node-http");
    const entrypoint = dockerfileArray(join(dir, "Dockerfile"), "ENTRYPOINT");
    const cmd = dockerfileArray(join(dir, "Dockerfile"), "CMD");
    expect(entrypoint[0]).toBe("/app/node_modules/.bin/drainit");
    const [appPort, healthPort] = [await freePort(), await freePort()];
    // The only change: the health endpoint on a free loopback port instead of 0.0.0.0:9090.
    const args = [...entrypoint.slice(1), ...cmd].map((arg) => (arg === "0.0.0.0:9090" ? `127.0.0.1:${healthPort}` : arg));
    expect(args).toContain(`127.0.0.1:${healthPort}`);
    const run = runInit(args, { cwd: dir, env: { PATH: HOST_PATH, PORT: String(appPort) } });
    try {
      await run.waitForOutput(/listening on/);
      expect((await get(healthPort, "/healthz")).status).toBe(200);
      expect((await get(appPort, "/")).status).toBe(200);
      // A slow request that is still running when the app gets SIGTERM (after the 5 s drain).
      const inFlight = get(appPort, "/?delay=7000");
      await sleep(200);
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      const health = await waitForStatus(healthPort, 503);
      expect(health).toBe(503);
      // Still serving during the drain, and the app has not been told to stop.
      expect((await get(appPort, "/")).status).toBe(200);
      expect(run.stdout).not.toContain("SIGTERM");
      const slow = await inFlight;
      expect(slow).toMatchObject({ status: 200, complete: true });
      const result = await run.finished;
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(5_000);
      expect(result.stdout).toContain("SIGTERM: closing");
      expect(result.code).toBe(0);
      expect(result.stderr).not.toMatch(/exceeds --budget/);
      expect(Number(/forwarded_ms=(\d+)/.exec(result.stderr)?.[1])).toBeGreaterThanOrEqual(5_000);
    } finally {
      run.kill();
    }
  });
});

/** Polls the status of GET /healthz until it is `wanted`; returns the last status seen. */
async function waitForStatus(port: number, wanted: number, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await get(port, "/healthz").catch(() => ({ status: 0 }))).status;
    if (status === wanted) return status;
    await sleep(50);
  }
  return status;
}

describe("examples/nginx", () => {
  const BIG_BYTES = 2 * 1024 * 1024;
  let conf: string;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const dir = join(work, "nginx");
    mkdirSync(join(dir, "html"), { recursive: true });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "html", "big.bin"), Buffer.alloc(BIG_BYTES, 7));
    writeFileSync(join(dir, "html", "index.html"), "hello\n");
    conf = join(dir, "nginx.conf");
    // examples/nginx/nginx.conf, with paths a test can write to and a slow location.
    writeFileSync(
      conf,
      `worker_processes 1;
worker_shutdown_timeout 20s;
error_log stderr notice;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/html;
    location = /big.bin { limit_rate 256k; }
  }
}
`,
    );
  });

  it("with the Dockerfile's command, a slow download in flight completes after SIGTERM; exit 0", async () => {
    const entrypoint = dockerfileArray(join(EXAMPLES, "nginx", "Dockerfile"), "ENTRYPOINT");
    expect(entrypoint).toEqual(["/drainit", "--drain", "5s", "--rewrite", "TERM:QUIT", "--", "nginx", "-g", "daemon off;"]);
    const run = runInit([...entrypoint.slice(1), "-c", conf], { env: { PATH: HOST_PATH } });
    try {
      await waitForListening(port, () => run.stderr);
      const startedAt = Date.now();
      const download = get(port, "/big.bin", 60_000).then((response) => ({ ...response, at: Date.now() }));
      await sleep(300);
      await run.signal("SIGTERM");
      // During the drain nginx still accepts.
      expect((await get(port, "/index.html")).status).toBe(200);
      await run.waitForOutput(/SIGQUIT|gracefully shutting down/, "stderr", 15_000);
      const quitAt = Date.now();
      // nginx closes its listening sockets just after logging the signal.
      const deadline = Date.now() + 5_000;
      let refused = false;
      while (!refused && Date.now() < deadline) {
        refused = await connectionRefused(port);
        if (!refused) await sleep(20);
      }
      expect(refused).toBe(true);
      const done = await download;
      // The download was in flight when nginx got QUIT, and still arrived in full.
      expect(done.at).toBeGreaterThan(quitAt);
      expect(done).toMatchObject({ status: 200, bytes: BIG_BYTES, complete: true });
      expect(done.at - startedAt).toBeGreaterThanOrEqual(5_000);
      const result = await run.finished;
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/forwarded=QUIT/);
    } finally {
      run.kill();
    }
  });

  it("ships an nginx.conf that nginx accepts", () => {
    const check = spawnSync("nginx", ["-t", "-c", join(EXAMPLES, "nginx", "nginx.conf")], {
      encoding: "utf8",
      env: { PATH: HOST_PATH },
    });
    expect(check.stderr).toMatch(/syntax is ok/);
    expect(check.status).toBe(0);
  });

  it("without the rewrite, nginx takes SIGTERM as a fast shutdown and cuts the same download", async () => {
    const run = runInit(["--", "nginx", "-g", "daemon off;", "-c", conf], { env: { PATH: HOST_PATH } });
    try {
      await waitForListening(port, () => run.stderr);
      const download = get(port, "/big.bin", 60_000);
      await sleep(300);
      await run.signal("SIGTERM");
      const done = await download.catch(() => ({ status: 0, bytes: 0, complete: false }));
      expect(done.complete).toBe(false);
      expect(done.bytes).toBeLessThan(BIG_BYTES);
      await run.finished;
    } finally {
      run.kill();
    }
  });
});

async function waitForListening(port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!(await connectionRefused(port))) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}; stderr: ${log()}`);
}

describe("examples/procfile", () => {
  it("runs the web: line as written: the hook flips health to 503, the app serves on, and stops with 0", async () => {
    const dir = join(EXAMPLES, "procfile");
    const web = readFileSync(join(dir, "Procfile"), "utf8")
      .split("\n")
      .find((line) => line.startsWith("web:"))!
      .slice("web:".length)
      .trim();
    expect(web).toMatch(/^drainit --drain 30s --drain-hook \S+ -- node server\.js$/);
    // `drainit` on PATH is the built binary; the platform's shell runs the line.
    const bin = join(work, "bin");
    mkdirSync(bin, { recursive: true });
    symlinkSync(DRAINIT, join(bin, "drainit"));
    const port = await freePort();
    const run = runInit(["-c", `exec ${web}`], {
      binary: "/bin/sh",
      cwd: dir,
      env: { PATH: `${bin}:${HOST_PATH}`, PORT: String(port) },
    });
    try {
      await run.waitForOutput(/listening on/);
      const init = await run.initPid();
      expect(realpathSync(readlinkSync(`/proc/${init}/exe`))).toBe(realpathSync(DRAINIT));
      expect((await get(port, "/healthz")).status).toBe(200);
      await run.signal("SIGTERM");
      await run.waitForOutput(/draining/);
      expect((await get(port, "/healthz")).status).toBe(503);
      expect((await get(port, "/")).status).toBe(200);
      await sleep(1_000);
      expect(run.stdout).not.toContain("SIGTERM");
      // A second stop signal skips the rest of the 30 s drain.
      await run.signal("SIGTERM");
      const result = await run.finished;
      expect(result.stdout).toContain("SIGTERM: closing");
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/hook=/);
    } finally {
      run.kill();
    }
  });
});

describe("Dockerfile.example", () => {
  it("has ENTRYPOINT lines drainit accepts and runs as PID 1", async () => {
    const text = readFileSync(join(ROOT, "Dockerfile.example"), "utf8");
    const entrypoints = text
      .split("\n")
      .filter((line) => line.startsWith("ENTRYPOINT "))
      .map((line) => JSON.parse(line.slice("ENTRYPOINT ".length)) as string[]);
    expect(entrypoints).toHaveLength(2);
    expect(text).toMatch(/\/drainit --export-rootfs \/out$/m);
    expect(text).toMatch(/^COPY --from=drainit \/out \/$/m);
    for (const entrypoint of entrypoints) {
      expect(entrypoint[0]).toMatch(/\/drainit$/);
      const health = `127.0.0.1:${await freePort()}`;
      const args = entrypoint.slice(1).map((arg) => (arg === "0.0.0.0:9090" ? health : arg));
      const run = runInit([...args, "sh", "-c", "echo started; exit 5"], { env: { PATH: HOST_PATH } });
      const result = await run.finished;
      expect(result.stderr).not.toMatch(/usage|see drainit --help/i);
      expect(result.stdout).toContain("started");
      expect(result.code).toBe(5);
    }
  });
});

describe("HEALTHCHECK lines", () => {
  /** `HEALTHCHECK [--flags] CMD ["exec", "form"]` lines of a Dockerfile, as argv arrays. */
  function healthchecks(file: string): string[][] {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("HEALTHCHECK "))
      .map((line) => JSON.parse(line.slice(line.indexOf(" CMD ") + " CMD ".length)) as string[]);
  }

  it.each([["Dockerfile.example"], ["examples/node-http/Dockerfile"]])(
    "%s: drainit --probe, healthy while the URL answers 2xx, unhealthy once it is refused",
    async (file) => {
      const lines = healthchecks(join(ROOT, file));
      expect(lines).toHaveLength(1);
      const [program, ...args] = lines[0]!;
      expect(program).toMatch(/\/drainit$/);
      expect(args[0]).toBe("--probe");
      const server = createServer((_request, response) => response.end("ok\n"));
      const port = await new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
      );
      const local = args.map((arg) => arg.replace(/^http:\/\/127\.0\.0\.1:\d+/, `http://127.0.0.1:${port}`));
      // (Not spawnSync: the server answering is in this very process.)
      const healthy = await runToExit(local, { notPid1: true });
      expect(healthy.code).toBe(0);
      await new Promise((resolve) => server.close(resolve));
      const unhealthy = await runToExit(local, { notPid1: true });
      expect(unhealthy.code).toBe(1);
      expect(unhealthy.stderr).toMatch(/^drainit: probe http:\/\/127\.0\.0\.1:\d+\/\S+: connection refused\n$/);
    },
  );
});
