// An open-loop HTTP load generator: request i is sent at start + i/rate, whatever
// happened to the requests before it, so a stalled or refusing backend cannot slow
// the load down and hide its own failures. Latency is counted from the scheduled
// time, not from when the request actually left.
import { Agent, request } from "node:http";

/**
 * One record per request.
 * @typedef {{ at: number, latencyMs: number, status: number, kind: string }} RequestRecord
 * `at` is the scheduled start (ms on the shared clock `now()`); `kind` is "ok" or the
 * failure: "refused", "reset", "closed" (connection closed before any response),
 * "timeout", "5xx", "4xx" or "other".
 */

/** Milliseconds since the epoch, sub-millisecond, monotonic within the process. */
export const now = () => performance.timeOrigin + performance.now();

export class LoadGenerator {
  /**
   * @param {{ host: string, port: number, path?: string, ratePerSecond: number,
   *           keepAlive?: boolean, timeoutMs?: number }} options
   */
  constructor(options) {
    this.options = { path: "/", keepAlive: false, timeoutMs: 5_000, ...options };
    // keepAlive: false makes Node send "Connection: close": one connection per request.
    this.agent = new Agent({ keepAlive: this.options.keepAlive, maxSockets: Infinity });
    /** @type {RequestRecord[]} */
    this.records = [];
    this.sent = 0;
    this.inFlight = 0;
    this.failed = 0;
    this.startedAt = 0;
    this.timer = null;
  }

  /** Sends rate × duration requests, the last one scheduled just before `durationMs`. */
  start(durationMs) {
    this.startedAt = now();
    const intervalMs = 1000 / this.options.ratePerSecond;
    const total = Math.round(durationMs / intervalMs);
    const tick = () => {
      const due = Math.min(total, Math.floor((now() - this.startedAt) / intervalMs) + 1);
      while (this.sent < due) this.send(this.startedAt + this.sent * intervalMs);
      this.timer = this.sent < total ? setTimeout(tick, 1) : null;
    };
    tick();
  }

  /** Resolves with every record once all requests are sent and answered (or failed). */
  finished() {
    return new Promise((resolve) => {
      const check = () => {
        if (this.timer === null && this.inFlight === 0) {
          this.agent.destroy();
          resolve(this.records);
        } else setTimeout(check, 10);
      };
      check();
    });
  }

  /** Stops sending at once; what is in flight still completes. */
  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.finished();
  }

  /** @param {number} scheduledAt */
  send(scheduledAt) {
    this.sent += 1;
    this.inFlight += 1;
    let done = false;
    const settle = (status, kind) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (kind !== "ok") this.failed += 1;
      this.records.push({ at: scheduledAt, latencyMs: now() - scheduledAt, status, kind });
      this.inFlight -= 1;
    };
    const { host, port, path, timeoutMs } = this.options;
    const outgoing = request({ host, port, path, agent: this.agent }, (response) => {
      const status = response.statusCode ?? 0;
      response.on("error", () => settle(status, "closed"));
      response.on("aborted", () => settle(status, "closed"));
      response.on("end", () => settle(status, kindOfStatus(status)));
      response.resume();
    });
    const deadline = setTimeout(() => {
      outgoing.destroy();
      settle(0, "timeout");
    }, timeoutMs);
    outgoing.on("error", (error) => settle(0, kindOfError(error)));
    outgoing.end();
  }
}

/** @param {number} status */
function kindOfStatus(status) {
  if (status >= 200 && status < 400) return "ok";
  if (status >= 500) return "5xx";
  return "4xx";
}

/** @param {NodeJS.ErrnoException} error */
function kindOfError(error) {
  switch (error.code) {
    case "ECONNREFUSED":
      return "refused";
    case "ECONNRESET":
      // Node says "socket hang up" when the connection ended before any response.
      return error.message === "socket hang up" ? "closed" : "reset";
    case "EPIPE":
      return "reset";
    default:
      return "other";
  }
}
