// The health endpoint: GET /healthz (or /readyz) answers 200 while running, 503 once draining.
import type { ListenAddress } from "../config.ts";

/** How long a mirrored upstream health check may take before it counts as failing. */
const UPSTREAM_TIMEOUT_MS = 1_000;
const HEALTH_PATHS = new Set(["/healthz", "/readyz"]);

export interface HealthEndpoint {
  readonly port: number;
  markDraining(): void;
  close(): void;
}

export class HealthBindError extends Error {}

function answer(status: number, body: string): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain", "cache-control": "no-store" },
  });
}

async function askUpstream(url: string): Promise<Response> {
  try {
    const upstream = await fetch(url, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS), redirect: "manual" });
    await upstream.arrayBuffer().catch(() => undefined);
    return answer(upstream.status, upstream.ok ? "ok" : `upstream answered ${upstream.status}`);
  } catch {
    return answer(503, "upstream unreachable");
  }
}

export function serveHealth(address: ListenAddress, upstream: string | null): HealthEndpoint {
  let draining = false;
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: address.host,
      port: address.port,
      // Idle and slow clients are cut off rather than held: this runs inside PID 1.
      idleTimeout: 10,
      fetch(request) {
        // An HTTP/1.0 probe without Host (HAProxy's httpchk, many LB checkers) gives a bare path.
        const path = new URL(request.url, "http://health.invalid").pathname;
        if (!HEALTH_PATHS.has(path)) return answer(404, "not found");
        if (request.method !== "GET" && request.method !== "HEAD") return answer(405, "method not allowed");
        if (draining) return answer(503, "draining");
        return upstream ? askUpstream(upstream) : answer(200, "ok");
      },
      error: () => answer(500, "error"),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HealthBindError(`--health: cannot listen on ${address.host}:${address.port}: ${reason}`);
  }
  return {
    port: server.port ?? address.port,
    markDraining: () => {
      draining = true;
    },
    close: () => {
      server.stop(true);
    },
  };
}
