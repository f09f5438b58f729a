// `drainit --probe TARGET`: a health check client for images that have no curl, wget or shell.
// It runs every few seconds in every container, so it stays small: built-in fetch and node:net,
// no signal handling, no restart (see restart-with-runtime-settings.ts), one line on failure.
// node:net is imported only for a TCP probe: loading it costs the runtime more memory than fetch.
import { UsageError, parseDuration } from "../config.ts";
import { EXIT_PROBE_FAILED } from "../exit-codes.ts";
import { describeError } from "../log.ts";

/** How long the whole probe may take unless --timeout says otherwise. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

export type ProbeTarget = { kind: "http"; url: string } | { kind: "tcp"; host: string; port: number };

export interface ProbeRequest {
  target: ProbeTarget;
  /** Statuses that count as healthy; null: any 2xx. */
  expect: ReadonlySet<number> | null;
  timeoutMs: number;
  headers: ReadonlyArray<readonly [string, string]>;
}

type ProbeOutcome = { ok: true } | { ok: false; reason: string };

/** The values the command line gave, as written. */
export interface ProbeOptions {
  target: string;
  expect: readonly string[];
  timeout: string | null;
  headers: readonly string[];
}

export function parseProbeTarget(text: string): ProbeTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--probe: '${text}' is not a URL (http://HOST:PORT/PATH, https://… or tcp://HOST:PORT)`);
  }
  if (url.protocol === "http:" || url.protocol === "https:") return { kind: "http", url: url.toString() };
  if (url.protocol === "tcp:") {
    // URL leaves the host of an unknown scheme as written: [::1] keeps its brackets.
    const port = Number(url.port);
    if (!url.hostname || !url.port || port < 1 || port > 65535 || (url.pathname !== "" && url.pathname !== "/")) {
      throw new UsageError(`--probe: '${text}' is not tcp://HOST:PORT`);
    }
    return { kind: "tcp", host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port };
  }
  throw new UsageError(`--probe: '${text}': only http://, https:// and tcp:// can be probed`);
}

/** `200,204` (repeatable, comma-separated) → the set of statuses; empty: null (any 2xx). */
function parseExpectedStatuses(values: readonly string[]): Set<number> | null {
  const codes = values.flatMap((value) => value.split(",")).map((code) => code.trim()).filter(Boolean);
  if (codes.length === 0) return null;
  return new Set(
    codes.map((code) => {
      if (!/^\d{3}$/.test(code) || Number(code) < 100 || Number(code) > 599) {
        throw new UsageError(`--expect: '${code}' is not an HTTP status (100-599)`);
      }
      return Number(code);
    }),
  );
}

/** RFC 9110 field names: a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon < 0 ? "" : text.slice(0, colon).trim();
  const value = colon < 0 ? "" : text.slice(colon + 1).trim();
  if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
    throw new UsageError(`--header: '${text}' is not 'Name: value'`);
  }
  return [name, value];
}

export function probeRequestOf(options: ProbeOptions): ProbeRequest {
  const target = parseProbeTarget(options.target);
  const expect = parseExpectedStatuses(options.expect);
  const headers = options.headers.map(parseHeader);
  if (target.kind === "tcp" && (expect || headers.length)) {
    throw new UsageError(`--probe ${options.target}: --expect and --header apply to http(s) only`);
  }
  const timeoutMs = options.timeout === null ? DEFAULT_PROBE_TIMEOUT_MS : parseDuration(options.timeout, "--timeout");
  if (timeoutMs <= 0) throw new UsageError("--timeout must be longer than 0");
  return { target, expect, timeoutMs, headers };
}

/** Error codes, as the runtimes name them, that say the certificate was not accepted. */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|ISSUER|VERIFY|HOSTNAME|ALTNAME/i;
const REFUSED_CODE = /^(ECONNREFUSED|ConnectionRefused)$/;
const UNRESOLVED_CODE = /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|DNSException|ENOTFOUND_.*)$/;
const RESET_CODE = /^(ECONNRESET|ConnectionClosed|EPIPE|UND_ERR_SOCKET)$/;

/** The codes an error (and its causes: undici wraps them) carries, outermost first. */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/** One short phrase for what went wrong, for the one line on stderr. */
function describeFailure(error: unknown): string {
  const codes = errorCodes(error);
  const tls = codes.find((code) => TLS_CODE.test(code));
  if (tls) return `bad TLS (${tls})`;
  if (codes.some((code) => REFUSED_CODE.test(code))) return "connection refused";
  if (codes.some((code) => UNRESOLVED_CODE.test(code))) return "host not found";
  if (codes.some((code) => RESET_CODE.test(code))) return "connection closed before an answer";
  const message = describeError(error);
  return codes.length ? `${message} (${codes[0]})` : message || "failed";
}

async function probeTcp(host: string, port: number, signal: AbortSignal): Promise<ProbeOutcome> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const settle = (outcome: ProbeOutcome) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = () => settle({ ok: false, reason: "timeout" });
    signal.addEventListener("abort", onAbort);
    socket.once("connect", () => settle({ ok: true }));
    socket.once("error", (error) => settle({ ok: false, reason: describeFailure(error) }));
  });
}

async function probeHttp(request: ProbeRequest, url: string, signal: AbortSignal): Promise<ProbeOutcome> {
  let response: Response;
  try {
    // A redirect is an answer of its own: a health URL that redirects is misconfigured.
    response = await fetch(url, { headers: [...request.headers] as [string, string][], redirect: "manual", signal });
  } catch (error) {
    if (signal.aborted) return { ok: false, reason: "timeout" };
    return { ok: false, reason: describeFailure(error) };
  }
  // The status is all a probe needs; the body is not waited for.
  void response.body?.cancel().catch(() => undefined);
  const healthy = request.expect ? request.expect.has(response.status) : response.status >= 200 && response.status < 300;
  if (healthy) return { ok: true };
  const expected = request.expect ? `, expected ${[...request.expect].join(",")}` : "";
  return { ok: false, reason: `status ${response.status}${expected}` };
}

/** Probes once; never rejects. The timeout bounds the whole of it, connection and answer. */
export async function probe(request: ProbeRequest): Promise<ProbeOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  try {
    const { target } = request;
    const outcome =
      target.kind === "tcp"
        ? await probeTcp(target.host, target.port, controller.signal)
        : await probeHttp(request, target.url, controller.signal);
    if (!outcome.ok && outcome.reason === "timeout") {
      return { ok: false, reason: `timeout: no answer within ${request.timeoutMs}ms` };
    }
    return outcome;
  } catch (error) {
    return { ok: false, reason: describeFailure(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** What is written on stderr when the probe fails. */
export function failureLine(request: ProbeRequest, reason: string): string {
  const { target } = request;
  const shown = target.kind === "tcp" ? `tcp://${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}` : target.url;
  return `drainit: probe ${shown}: ${reason}\n`;
}

/** Probes, writes the failure line if any, exits 0 (healthy) or 1. */
export async function probeThenExit(request: ProbeRequest, writeLine: (line: string) => void): Promise<never> {
  const outcome = await probe(request);
  if (!outcome.ok) writeLine(failureLine(request, outcome.reason));
  process.exit(outcome.ok ? 0 : EXIT_PROBE_FAILED);
}
