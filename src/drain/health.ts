// The health endpoint. Readiness and liveness are apart, because a liveness probe that fails
// during a long drain makes the orchestrator restart or alert on an instance that is merely leaving:
//   /readyz   200 while running (and while --health-upstream answers 2xx), 503 from the stop signal on
//   /livez    200 while drainit and the child are alive, draining or not
//   /healthz  what it always meant: the same as /readyz
// The body names the phase; `?verbose` or `Accept: application/json` gives it as JSON, with the
// time since the stop signal and the drain plan.
import type { Config } from "../config.ts";
import type { Phase } from "../supervisor/phases.ts";
import { describeError } from "../log.ts";

/** How long a mirrored upstream health check may take before it counts as failing. */
const UPSTREAM_TIMEOUT_MS = 1_000;

/** The phase as the endpoint shows it: what a probe or a person needs to know, no more. */
type ShownPhase = "starting" | "running" | "draining" | "stopping";

export type HealthRoute = "readyz" | "livez" | "healthz";

const ROUTES: Readonly<Record<string, HealthRoute>> = { "/readyz": "readyz", "/livez": "livez", "/healthz": "healthz" };

/** What drainit will do on the stop signal, in milliseconds; shown by `?verbose`. */
export interface DrainPlan {
  drain_ms: number;
  drain_until_idle: { min_ms: number; max_ms: number; idle_ms: number } | null;
  hook: "command" | "http" | null;
  hook_timeout_ms: number | null;
  grace_ms: number | null;
  budget_ms: number | null;
}

export function drainPlanOf(config: Config): DrainPlan {
  const adaptive = config.adaptiveDrain;
  return {
    drain_ms: adaptive ? adaptive.maxMs : config.drainMs,
    drain_until_idle: adaptive ? { min_ms: adaptive.minMs, max_ms: adaptive.maxMs, idle_ms: adaptive.idleMs } : null,
    hook: config.drainHook?.kind ?? null,
    hook_timeout_ms: config.drainHook ? config.hookTimeoutMs : null,
    grace_ms: config.graceMs,
    budget_ms: config.budgetMs,
  };
}

export interface HealthState {
  phase: Phase;
  /** Monotonic time of the stop signal, once it came. */
  stopAt: number | null;
  plan: DrainPlan;
}

/** What the app's own health URL said, for readiness while running (null: no upstream). */
export type UpstreamAnswer = { status: number } | { unreachable: true } | null;

interface HealthAnswer {
  status: number;
  body: string;
  json: boolean;
}

function shownPhase(phase: Phase): ShownPhase {
  switch (phase) {
    case "idle":
      return "starting";
    case "running":
    case "draining":
      return phase;
    default:
      return "stopping";
  }
}

/** Alive: drainit answers, and the child it runs has not exited. */
function isAlive(phase: Phase): boolean {
  return phase !== "finishing" && phase !== "exited";
}

/** Whether an answer depends on the app's own health URL: only readiness while running does. */
export function needsUpstream(route: HealthRoute, phase: Phase): boolean {
  return route !== "livez" && phase === "running";
}

/** The answer for a route, in a state, given the upstream's (pure: the server only carries it out). */
export function healthAnswer(
  route: HealthRoute,
  state: HealthState,
  now: number,
  upstream: UpstreamAnswer,
  verbose: boolean,
): HealthAnswer {
  const phase = shownPhase(state.phase);
  const live = isAlive(state.phase);
  let ready = state.phase === "running";
  let status: number;
  let detail: string | undefined;
  if (route === "livez") status = live ? 200 : 503;
  else if (!ready) status = 503;
  else if (upstream === null) status = 200;
  else if ("unreachable" in upstream) {
    status = 503;
    detail = "upstream unreachable";
  } else {
    // The app's own answer is passed on as it is, as /healthz always did.
    status = upstream.status;
    if (status < 200 || status >= 300) detail = `upstream answered ${status}`;
  }
  if (detail) ready = false;
  if (!verbose) return { status, body: detail ? `${phase}: ${detail}\n` : `${phase}\n`, json: false };
  const document = {
    phase,
    ready,
    live,
    since_stop_ms: state.stopAt === null ? null : Math.round(now - state.stopAt),
    upstream: detail,
    plan: state.plan,
  };
  return { status, body: `${JSON.stringify(document)}\n`, json: true };
}

/** `?verbose` (any value but 0/false) or an Accept header that asks for JSON. */
export function wantsVerbose(url: URL, accept: string | null): boolean {
  const verbose = url.searchParams.get("verbose");
  if (verbose !== null && verbose !== "0" && verbose !== "false") return true;
  return accept !== null && /\bapplication\/json\b/i.test(accept);
}

export interface HealthEndpoint {
  readonly port: number;
  /** The supervisor's phase changed (the stop signal came when it becomes draining). */
  setPhase(phase: Phase): void;
  close(): void;
}

export class HealthBindError extends Error {}

function respond(answer: HealthAnswer): Response {
  return new Response(answer.body, {
    status: answer.status,
    headers: {
      "content-type": answer.json ? "application/json" : "text/plain",
      "cache-control": "no-store",
    },
  });
}

function plain(status: number, body: string): Response {
  return respond({ status, body: `${body}\n`, json: false });
}

async function askUpstream(url: string): Promise<UpstreamAnswer> {
  try {
    const upstream = await fetch(url, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS), redirect: "manual" });
    await upstream.arrayBuffer().catch(() => undefined);
    return { status: upstream.status };
  } catch {
    return { unreachable: true };
  }
}

export function serveHealth(
  address: { host: string; port: number },
  upstream: string | null,
  plan: DrainPlan,
  now: () => number = () => performance.now(),
): HealthEndpoint {
  const state: HealthState = { phase: "idle", stopAt: null, plan };
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: address.host,
      port: address.port,
      // Idle and slow clients are cut off rather than held: this runs inside PID 1.
      idleTimeout: 10,
      async fetch(request) {
        // An HTTP/1.0 probe without Host (HAProxy's httpchk, many LB checkers) gives a bare path.
        const url = new URL(request.url, "http://health.invalid");
        const route = ROUTES[url.pathname];
        if (!route) return plain(404, "not found");
        if (request.method !== "GET" && request.method !== "HEAD") return plain(405, "method not allowed");
        const verbose = wantsVerbose(url, request.headers.get("accept"));
        const answerUpstream = upstream && needsUpstream(route, state.phase) ? await askUpstream(upstream) : null;
        return respond(healthAnswer(route, state, now(), answerUpstream, verbose));
      },
      error: () => plain(500, "error"),
    });
  } catch (error) {
    const reason = describeError(error);
    throw new HealthBindError(`--health: cannot listen on ${address.host}:${address.port}: ${reason}`);
  }
  return {
    port: server.port ?? address.port,
    setPhase(phase) {
      if (phase === "draining" && state.stopAt === null) state.stopAt = now();
      state.phase = phase;
    },
    close: () => {
      server.stop(true);
    },
  };
}
