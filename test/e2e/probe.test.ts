// `drainit --probe` through the compiled binary: exit codes and the one line on stderr.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSignedCertificate } from "../helpers/tls.ts";
import { DRAINIT, freePort, runToExit, waitFor } from "./harness.ts";

const probe = (args: string[]) => runToExit(args, { notPid1: true }, 15_000);

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

let http: Server;
let https: Server;
let tcp: TcpServer;
let base: string;
let httpsBase: string;
let tcpPort: number;
let certDir: string;
let lastHeaders: IncomingHttpHeaders = {};
const held: Socket[] = [];

beforeAll(async () => {
  http = createHttpServer((request, response) => {
    lastHeaders = request.headers;
    if (request.url === "/hang") {
      held.push(request.socket);
      return;
    }
    response.writeHead(Number(/^\/(\d{3})$/.exec(request.url ?? "")?.[1] ?? 200));
    response.end("body\n");
  });
  base = `http://127.0.0.1:${await listen(http)}`;
  certDir = mkdtempSync(join(tmpdir(), "drainit-probe-e2e-"));
  https = createHttpsServer(
    selfSignedCertificate(certDir),
    (_request, response) => response.end("ok\n"),
  );
  httpsBase = `https://127.0.0.1:${await listen(https)}`;
  tcp = createTcpServer((socket) => held.push(socket));
  tcpPort = await listen(tcp);
});

afterAll(() => {
  for (const socket of held) socket.destroy();
  http.close();
  https.close();
  tcp.close();
  rmSync(certDir, { recursive: true, force: true });
});

describe("drainit --probe", () => {
  it("exits 0 and says nothing on a 2xx", async () => {
    const result = await probe(["--probe", `${base}/204`]);
    expect(result).toMatchObject({ code: 0, stderr: "", stdout: "" });
  });

  it("exits 1 with one line on a 503", async () => {
    const result = await probe(["--probe", `${base}/503`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`drainit: probe ${base}/503: status 503\n`);
  });

  it("takes the statuses of --expect", async () => {
    expect((await probe(["--probe", `${base}/503`, "--expect", "200,503"])).code).toBe(0);
    const result = await probe(["--probe", `${base}/200`, "--expect", "204"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`drainit: probe ${base}/200: status 200, expected 204\n`);
  });

  it("sends every --header", async () => {
    const result = await probe(["--probe", `${base}/200`, "--header", "X-Probe: one", "--header", "Host: app.example"]);
    expect(result.code).toBe(0);
    expect(lastHeaders).toMatchObject({ "x-probe": "one", host: "app.example" });
  });

  it("exits 1 saying the connection was refused", async () => {
    const port = await freePort();
    const result = await probe(["--probe", `http://127.0.0.1:${port}/healthz`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`drainit: probe http://127.0.0.1:${port}/healthz: connection refused\n`);
  });

  it("gives up at --timeout when no answer comes", async () => {
    const started = Date.now();
    const result = await probe(["--probe", `${base}/hang`, "--timeout", "500ms"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`drainit: probe ${base}/hang: timeout: no answer within 500ms\n`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it("exits 1 naming a self-signed certificate as bad TLS", async () => {
    const result = await probe(["--probe", `${httpsBase}/healthz`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^drainit: probe ${httpsBase}/healthz: bad TLS \\([A-Z_]+\\)\\n$`));
  });

  it("exits 0 when a TCP connection opens, 1 when it is refused", async () => {
    expect(await probe(["--probe", `tcp://127.0.0.1:${tcpPort}`])).toMatchObject({ code: 0, stderr: "" });
    const port = await freePort();
    const refused = await probe(["--probe", `tcp://127.0.0.1:${port}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`drainit: probe tcp://127.0.0.1:${port}: connection refused\n`);
  });

  it("works with --probe after its options too (through the init's parser)", async () => {
    expect(await probe(["--timeout", "1s", "--probe", `${base}/200`])).toMatchObject({ code: 0, stderr: "" });
    const failed = await probe(["--expect", "204", "--probe", `${base}/200`]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`drainit: probe ${base}/200: status 200, expected 204\n`);
  });

  it.each([
    [["--probe", "127.0.0.1:8080"], /^drainit: --probe: '127\.0\.0\.1:8080' is not a URL/],
    [["--probe", "http://h/", "--expect", "2xx"], /^drainit: --expect: '2xx' is not an HTTP status/],
    [["--probe", "http://h/", "--header", "nocolon"], /^drainit: --header: 'nocolon' is not 'Name: value'/],
    [["--probe", "http://h/", "--timeout", "soon"], /^drainit: --timeout: 'soon' is not a duration/],
    [["--probe", "http://h/", "--drain", "5s"], /^drainit: --probe takes no --drain/],
    [["--timeout", "1s", "--probe", "http://h/", "app"], /^drainit: --probe takes no command/],
  ])("exits 2 with one line on bad input %j", async (args, line) => {
    const result = await probe(args);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(result.stderr).toMatch(line);
  });

  it.each([
    ["--probe first (its own entry)", (url: string) => ["--probe", url, "--timeout", "20s"]],
    ["--probe after its options (through the init's parser)", (url: string) => ["--timeout", "20s", "--probe", url]],
  ])("is not an init: SIGTERM ends it at once, %s", async (_how, argsFor) => {
    const before = held.length;
    const child = spawn(DRAINIT, argsFor(`${base}/hang`), { env: { PATH: process.env.PATH }, stdio: "ignore" });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor(() => (held.length > before ? true : null), 5_000, "the probe's request");
      const sentAt = Date.now();
      child.kill("SIGTERM");
      const { code, signal } = await ended;
      expect(Date.now() - sentAt).toBeLessThan(2_000);
      // Killed by the signal, or exited 128+15 as /bin/sleep-like utilities do: either way, ended by it.
      expect(signal === "SIGTERM" || code === 143).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("is not an init: it does not start itself again with the runtime settings", async () => {
    // Held on a request that never gets an answer, the probe shows the environment it runs with:
    // a restart would have added the runtime settings and their marker to it.
    const before = held.length;
    const child = spawn(DRAINIT, ["--probe", `${base}/hang`, "--timeout", "5s"], { env: { PATH: process.env.PATH }, stdio: "ignore" });
    try {
      await waitFor(() => (held.length > before ? true : null), 5_000, "the probe's request");
      const environ = readFileSync(`/proc/${child.pid}/environ`, "utf8");
      expect(environ).not.toContain("_DRAINIT_RUNTIME_SETTINGS");
      expect(environ).not.toContain("BUN_JSC_useConcurrentGC");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
