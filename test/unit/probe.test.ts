// The probe's outcomes against real local servers: 2xx, a failing status, refused, an answer that
// never comes, a self-signed certificate, TCP open and refused, headers sent, --expect.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSignedCertificate } from "../helpers/tls.ts";
import { UsageError } from "../../src/config.ts";
import { parseOptions } from "../../src/cli/parse.ts";
import { probeOptionsOf } from "../../src/cli/probe-options.ts";
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  failureLine,
  parseHeader,
  parseProbeTarget,
  probe,
  probeRequestOf,
  type ProbeOptions,
} from "../../src/tools/probe.ts";

const options = (target: string, more: Partial<ProbeOptions> = {}): ProbeOptions => ({
  target,
  expect: [],
  timeout: null,
  headers: [],
  ...more,
});
const probeOf = (target: string, more: Partial<ProbeOptions> = {}) => probe(probeRequestOf(options(target, more)));

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

/** A port that was just free: connecting to it is refused. */
async function refusedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("probe over HTTP", () => {
  let server: Server;
  let base: string;
  let lastHeaders: IncomingHttpHeaders = {};
  const hung: Array<{ destroy(): void }> = [];

  beforeAll(async () => {
    server = createHttpServer((request, response) => {
      lastHeaders = request.headers;
      const path = request.url ?? "/";
      if (path === "/hang") {
        hung.push(response.socket!);
        return;
      }
      if (path === "/slow-body") {
        // The status comes at once; the body never ends. The probe must not wait for it.
        response.writeHead(200);
        response.write("partial");
        hung.push(response.socket!);
        return;
      }
      const status = Number(/^\/(\d{3})$/.exec(path)?.[1] ?? 200);
      response.writeHead(status, status === 302 ? { location: "/200" } : {});
      response.end("body\n");
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => {
    for (const socket of hung) socket.destroy();
    server.close();
  });

  it.each([200, 204, 299])("succeeds on %i", async (status) => {
    expect(await probeOf(`${base}/${status}`)).toEqual({ ok: true });
  });

  it.each([
    [503, "status 503"],
    [404, "status 404"],
    [302, "status 302"],
    [500, "status 500"],
  ])("fails on %i saying %j", async (status, reason) => {
    expect(await probeOf(`${base}/${status}`)).toEqual({ ok: false, reason });
  });

  it("succeeds only on the statuses --expect lists, when given", async () => {
    expect(await probeOf(`${base}/204`, { expect: ["200,204"] })).toEqual({ ok: true });
    expect(await probeOf(`${base}/503`, { expect: ["200", "503"] })).toEqual({ ok: true });
    expect(await probeOf(`${base}/200`, { expect: ["204"] })).toEqual({ ok: false, reason: "status 200, expected 204" });
  });

  it("sends each --header", async () => {
    expect(await probeOf(`${base}/200`, { headers: ["X-Probe: yes", "Authorization: Bearer abc:def"] })).toEqual({ ok: true });
    expect(lastHeaders["x-probe"]).toBe("yes");
    expect(lastHeaders.authorization).toBe("Bearer abc:def");
  });

  it("gives up after --timeout when no answer comes, and says so", async () => {
    const started = Date.now();
    const outcome = await probeOf(`${base}/hang`, { timeout: "300ms" });
    expect(outcome).toEqual({ ok: false, reason: "timeout: no answer within 300ms" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(DEFAULT_PROBE_TIMEOUT_MS);
  });

  it("answers from the status without waiting for the body", async () => {
    expect(await probeOf(`${base}/slow-body`, { timeout: "2s" })).toEqual({ ok: true });
  });

  it("says the connection was refused", async () => {
    expect(await probeOf(`http://127.0.0.1:${await refusedPort()}/healthz`)).toEqual({
      ok: false,
      reason: "connection refused",
    });
  });
});

describe("probe over HTTPS", () => {
  let dir: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "drainit-probe-"));
    server = createHttpsServer(
      selfSignedCertificate(dir),
      (_request, response) => response.end("ok\n"),
    );
    port = await listen(server);
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails on a self-signed certificate, naming it as a TLS failure", async () => {
    const outcome = await probeOf(`https://127.0.0.1:${port}/healthz`);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(/^bad TLS \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|.*CERT.*)\)$/);
  });
});

describe("probe over TCP", () => {
  let server: TcpServer;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = createTcpServer((socket) => sockets.push(socket));
    port = await listen(server);
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });

  it("succeeds when a connection opens", async () => {
    expect(await probeOf(`tcp://127.0.0.1:${port}`)).toEqual({ ok: true });
  });

  it("fails when it is refused", async () => {
    expect(await probeOf(`tcp://127.0.0.1:${await refusedPort()}`)).toEqual({ ok: false, reason: "connection refused" });
  });
});

const parseProbeCommandLine = (args: string[]) => probeOptionsOf(parseOptions(args, "drainit"));

describe("probe arguments", () => {
  it("reads the command line, both spellings, repeatable --expect and --header", () => {
    expect(
      parseProbeCommandLine([
        "--probe", "http://h/", "--expect=200,204", "--expect", "301", "--timeout", "1s",
        "--header", "A: 1", "--header=B: 2",
      ]),
    ).toEqual({ target: "http://h/", expect: ["200,204", "301"], timeout: "1s", headers: ["A: 1", "B: 2"] });
    expect(parseProbeCommandLine(["--probe=tcp://h:1"])).toEqual({ target: "tcp://h:1", expect: [], timeout: null, headers: [] });
    expect(parseProbeCommandLine(["--timeout", "1s", "--timeout=3s", "--probe", "http://h/"])?.timeout).toBe("3s");
    expect(parseProbeCommandLine(["--drain", "5s", "--", "app"])).toBeNull();
  });

  it.each([
    [["--probe"], "--probe needs a value"],
    [["--probe", "http://h/", "--timeout"], "--timeout needs a value"],
    [["--probe", "http://h/", "--drain", "5s"], "--probe takes no --drain (only --expect, --timeout, --header)"],
    [["--probe", "http://h/", "extra"], "--probe takes no command"],
    [["--probe", "http://h/", "--probe", "http://i/"], "--probe is given twice"],
    [["--probe", "http://h/", "--bogus"], "unknown option '--bogus'"],
    [["--expect", "200", "--", "app"], "--expect needs --probe"],
    [["--timeout", "1s", "app"], "--timeout needs --probe"],
  ])("refuses %j: %s", (args, message) => {
    expect(() => parseProbeCommandLine(args)).toThrow(UsageError);
    expect(() => parseProbeCommandLine(args)).toThrow(message);
  });

  it.each([
    ["http://127.0.0.1:8080/healthz", { kind: "http", url: "http://127.0.0.1:8080/healthz" }],
    ["https://example.test/", { kind: "http", url: "https://example.test/" }],
    ["tcp://127.0.0.1:5432", { kind: "tcp", host: "127.0.0.1", port: 5432 }],
    ["tcp://[::1]:6379", { kind: "tcp", host: "::1", port: 6379 }],
    ["tcp://db:5432/", { kind: "tcp", host: "db", port: 5432 }],
  ])("reads %j", (text, target) => {
    expect(parseProbeTarget(text)).toEqual(target);
  });

  it.each(["127.0.0.1:8080", "ftp://host/", "tcp://host", "tcp://host:0", "tcp://host:70000", "tcp://host:80/path", ""])(
    "refuses %j with a usage error",
    (text) => {
      expect(() => parseProbeTarget(text)).toThrow(UsageError);
    },
  );

  it("reads headers, keeping colons in the value", () => {
    expect(parseHeader("Host: app.example")).toEqual(["Host", "app.example"]);
    expect(parseHeader("X-Time:12:30")).toEqual(["X-Time", "12:30"]);
  });

  it.each(["NoColon", ": value", "Bad Name: x", "X: a\r\nInjected: b"])("refuses the header %j", (text) => {
    expect(() => parseHeader(text)).toThrow("--header:");
  });

  it.each([["2xx"], ["99"], ["600"], ["200,abc"]])("refuses --expect %j", (value) => {
    expect(() => probeRequestOf(options("http://h/", { expect: [value] }))).toThrow("--expect:");
  });

  it("takes 2 s unless --timeout says otherwise, and refuses a zero timeout", () => {
    expect(probeRequestOf(options("http://h/")).timeoutMs).toBe(2_000);
    expect(probeRequestOf(options("http://h/", { timeout: "500ms" })).timeoutMs).toBe(500);
    expect(() => probeRequestOf(options("http://h/", { timeout: "0" }))).toThrow("--timeout must be longer than 0");
    expect(() => probeRequestOf(options("http://h/", { timeout: "soon" }))).toThrow("--timeout: 'soon'");
  });

  it("refuses --expect and --header on a TCP probe", () => {
    expect(() => probeRequestOf(options("tcp://h:1", { expect: ["200"] }))).toThrow("http(s) only");
    expect(() => probeRequestOf(options("tcp://h:1", { headers: ["A: b"] }))).toThrow("http(s) only");
  });

  it("names the target in the failure line", () => {
    expect(failureLine(probeRequestOf(options("tcp://[::1]:80")), "connection refused")).toBe(
      "drainit: probe tcp://[::1]:80: connection refused\n",
    );
    expect(failureLine(probeRequestOf(options("http://127.0.0.1:8080/healthz")), "status 503")).toBe(
      "drainit: probe http://127.0.0.1:8080/healthz: status 503\n",
    );
  });
});
