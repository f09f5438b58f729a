#!/usr/bin/env node
// The live demo: rolling updates of a small HTTP app behind a proxy that, like
// kube-proxy or a cloud load balancer, keeps sending new connections to the old
// instance for a while after it was told to stop. Once with the app alone, once under
// `drainit --drain`; same load, same rollovers; prints how many requests each lost.
//
//   node bench/rollover/demo.mjs [--rate 400] [--rollovers 3] [--lag 2] [--json]
//
// --lag is in seconds; drainit drains for lag + 1 s. --json prints the result as one
// JSON object on stdout (the progress goes to stderr then).
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { AddressPool, DRAINIT } from "./lib/instances.mjs";
import { killEveryInstance, runRollovers } from "./lib/rollout.mjs";
import { INITS, nodeAppArgv } from "./lib/scenarios.mjs";
import { describeKinds, summarize } from "./lib/summary.mjs";
import { TcpProxy } from "./lib/tcp-proxy.mjs";

const options = readOptions();
const out = options.json ? process.stderr : process.stdout;
const say = (line) => out.write(`${line}\n`);

if (!existsSync(DRAINIT)) {
  console.error(`demo: ${DRAINIT} is missing; run npm run build first`);
  process.exit(1);
}
// Whatever ends the demo — the last line, an error, Ctrl-C — no instance survives it.
process.on("exit", killEveryInstance);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

const lagMs = options.lag * 1000;
const drainMs = lagMs + 1000;
// Long enough for drainit's old instance to finish draining before the next rollover.
const periodMs = drainMs + 1000;
const runs = [
  { init: "app", title: "without drainit" },
  { init: "drainit-drain", title: `with drainit --drain ${drainMs / 1000}s` },
];

say(
  `drainit demo: ${options.rollovers} rolling updates of one HTTP app behind a proxy that keeps sending it\n` +
    `new connections for ${options.lag} s after SIGTERM (like kube-proxy or a cloud load balancer);\n` +
    `${options.rate} requests/s, each on a new connection, sent on a fixed schedule.`,
);
const results = [];
for (const [index, run] of runs.entries()) {
  const init = INITS[run.init];
  const addresses = new AddressPool();
  const proxy = new TcpProxy();
  const target = await proxy.listen("127.0.0.1", 0);
  say(`\n[${index + 1}/${runs.length}] ${run.title}: ${[...init.wrap({ drainMs, host: "", healthPort: 0 }).map(short), "node app.mjs"].join(" ")}`);
  try {
    const outcome = await runRollovers({
      spawnSpec: (n) => {
        const { host, appPort, healthPort } = addresses.take();
        return {
          name: `instance ${n}`,
          argv: [...init.wrap({ drainMs, host, healthPort }), ...nodeAppArgv({ host, port: appPort })],
          host,
          port: appPort,
          readyUrl: `http://${host}:${appPort}/healthz`,
        };
      },
      balancer: {
        add: (instance) => proxy.add({ host: instance.host, port: instance.port }),
        remove: (instance) => proxy.remove({ host: instance.host, port: instance.port }),
      },
      target,
      rollovers: options.rollovers,
      periodMs,
      lagMs,
      ratePerSecond: options.rate,
      onEvent: (message, load) => say(`  ${message} (failed so far: ${load.failed} of ${load.sent})`),
    });
    const summary = summarize(outcome.records, outcome.rollovers);
    say(`  done: ${summary.failed} of ${summary.requests} requests failed`);
    results.push({ ...run, summary, timeline: outcome.rollovers.at(-1)?.timeline ?? null });
  } finally {
    await proxy.close();
  }
}

const width = Math.max(...results.map((r) => r.title.length)) + 1;
say("\nResult:");
for (const { title, summary } of results) {
  const kinds = describeKinds(summary.byKind);
  say(`  ${`${title}:`.padEnd(width)} ${String(summary.failed).padStart(5)} of ${summary.requests} requests failed${kinds ? ` (${kinds})` : ""}`);
}
const timeline = results.find((r) => r.timeline)?.timeline;
if (timeline) say(`\ndrainit's account of its last rollover:\n  ${timeline.trim()}`);
if (options.json) process.stdout.write(`${JSON.stringify({ lagMs, drainMs, results })}\n`);

function short(arg) {
  return arg === DRAINIT ? "drainit" : arg;
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: "400" },
      rollovers: { type: "string", default: "3" },
      lag: { type: "string", default: "2" },
      json: { type: "boolean", default: false },
    },
  });
  const parsed = { rate: Number(values.rate), rollovers: Number(values.rollovers), lag: Number(values.lag), json: values.json };
  if (!(parsed.rate > 0 && parsed.rate <= 2000) || !(Number.isInteger(parsed.rollovers) && parsed.rollovers > 0 && parsed.rollovers <= 20) || !(parsed.lag > 0 && parsed.lag <= 10)) {
    console.error("demo: --rate wants 1-2000, --rollovers 1-20, --lag 0-10 (seconds)");
    process.exit(2);
  }
  return parsed;
}
