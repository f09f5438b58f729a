// What receives SIGTERM in each scenario: the app alone, or the app under an init.
import { APP, DRAINIT } from "./instances.mjs";

/** "3s", "2.5s", "500ms": the way a duration is written on drainit's command line. */
function durationText(ms) {
  return ms % 1000 === 0 || ms > 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The inits under test. `wrap` returns the argv put in front of the app's; `removal`
 * says who takes the old instance out of the balancer: the endpoints controller (after
 * the lag) or the balancer's own health checks against drainit's --health endpoint.
 * `untilIdle` (MIN..MAX bounds and IDLE, in ms) is the adaptive drain's, for the
 * scenario that uses it.
 * @typedef {{ minMs: number, maxMs: number, idleMs: number }} UntilIdle
 * @type {Record<string, { label: (p: { drainMs: number, untilIdle?: UntilIdle }) => string,
 *   wrap: (p: { drainMs: number, host: string, healthPort: number, stopRewrite?: string,
 *               untilIdle?: UntilIdle }) => string[],
 *   removal: "controller" | "health", needs?: string }>}
 */
export const INITS = {
  app: { label: () => "app alone", wrap: () => [], removal: "controller" },
  tini: { label: () => "tini --", wrap: () => ["tini", "--"], removal: "controller", needs: "tini" },
  "dumb-init": {
    label: () => "dumb-init --",
    wrap: () => ["dumb-init", "--"],
    removal: "controller",
    needs: "dumb-init",
  },
  drainit: { label: () => "drainit --", wrap: (p) => [DRAINIT, ...rewrite(p), "--"], removal: "controller" },
  "drainit-drain": {
    label: ({ drainMs }) => `drainit --drain ${durationText(drainMs)}`,
    wrap: (p) => [DRAINIT, "--drain", durationText(p.drainMs), ...rewrite(p), "--"],
    removal: "controller",
  },
  "drainit-until-idle": {
    label: ({ untilIdle }) => `drainit ${untilIdleArgs(untilIdle).join(" ")}`,
    wrap: (p) => [DRAINIT, ...untilIdleArgs(p.untilIdle), ...rewrite(p), "--"],
    removal: "controller",
  },
  "drainit-health": {
    label: ({ drainMs }) => `drainit --health … --drain ${durationText(drainMs)}`,
    wrap: (p) => [
      DRAINIT,
      "--health",
      `${p.host}:${p.healthPort}`,
      "--drain",
      durationText(p.drainMs),
      ...rewrite(p),
      "--",
    ],
    removal: "health",
  },
};

/** `--drain MIN..MAX --drain-until-idle IDLE` */
function untilIdleArgs(untilIdle) {
  if (!untilIdle) throw new Error("the drainit-until-idle scenario needs its MIN..MAX and IDLE");
  const { minMs, maxMs, idleMs } = untilIdle;
  return ["--drain", `${durationText(minMs)}..${durationText(maxMs)}`, "--drain-until-idle", durationText(idleMs)];
}

function rewrite(p) {
  return p.stopRewrite ? ["--rewrite", p.stopRewrite] : [];
}

/** The naive Node app of app.mjs, listening on `host:port`. */
export function nodeAppArgv({ host, port, latencyMs = 20, startupMs = 0 }) {
  return [
    process.execPath,
    APP,
    "--listen",
    `${host}:${port}`,
    "--latency-ms",
    String(latencyMs),
    "--startup-ms",
    String(startupMs),
  ];
}
