#!/usr/bin/env node
// The rolling-update benchmark: rollovers of one replica behind HAProxy, driven by an
// endpoints controller that removes the old endpoint a lag L after SIGTERM (as
// Kubernetes does), for the app alone and under tini, dumb-init and drainit.
//
//   node bench/rollover/bench.mjs [--quick] [--rollovers 10] [--rate 200] [--only REGEX]
//
// Prints one table and writes bench/results/rollover-<time>.{json,md,svg}: the raw
// per-request records, the table, and failures over time around each SIGTERM.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HaproxyBalancer } from "./lib/haproxy.mjs";
import { AddressPool, DRAINIT, ROOT } from "./lib/instances.mjs";
import { nginxArgv } from "./lib/nginx.mjs";
import { failuresAroundSigterm, plotSvg } from "./lib/plot.mjs";
import { killEveryInstance, runRollovers } from "./lib/rollout.mjs";
import { randomLags } from "./lib/lags.mjs";
import { INITS, nodeAppArgv } from "./lib/scenarios.mjs";
import { describeKinds, summarize } from "./lib/summary.mjs";

const options = readOptions();
ensureTools();
const scratch = mkdtempSync(join(tmpdir(), "drainit-rollover-"));
let haproxy = null;
// Whatever ends the run — the last line, an error, Ctrl-C — nothing it started survives it.
process.on("exit", () => {
  killEveryInstance();
  haproxy?.stopNow();
  rmSync(scratch, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

const rows = plannedRows().filter((row) => options.only.test(`${row.setting} — ${row.label}`));
const estimateS = rows.reduce((sum, row) => sum + 2 + (0.5 + options.rollovers * periodOf(row) / 1000), 0);
console.log(
  `${rows.length} runs of ${options.rollovers} rollovers at ${options.rate} requests/s ` +
    `(about ${Math.ceil(estimateS / 60)} min)`,
);

const results = [];
try {
  for (const [index, row] of rows.entries()) {
    console.log(`\n[${index + 1}/${rows.length}] ${row.setting} — ${row.label}`);
    results.push(await runRowWithRetry(row));
    const s = results.at(-1).summary;
    console.log(
      `  ${s.failed} of ${s.requests} requests failed${s.failed ? ` (${describeKinds(s.byKind)})` : ""}; ` +
        `SIGTERM→exit mean ${(s.sigtermToExitMeanMs / 1000).toFixed(2)} s`,
    );
  }
} finally {
  killEveryInstance();
  await haproxy?.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const table = [renderTable(results), renderRandomLagTable(results)].filter(Boolean).join("\n\n");
console.log(`\n${table}`);
const outDir = join(ROOT, "bench", "results");
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const base = join(outDir, `rollover-${stamp}`);
writeFileSync(`${base}.md`, `${table}\n`);
writeFileSync(
  `${base}.json`,
  JSON.stringify({
    parameters: { rollovers: options.rollovers, ratePerSecond: options.rate, killBudgetMs: 30_000 },
    recordFormat: ["ms since load start (scheduled)", "latency ms", "HTTP status (0: none)", "kind"],
    runs: results.map(({ row, summary, outcome }) => ({
      setting: row.setting,
      scenario: row.label,
      lagMs: row.lagMs,
      randomLag: row.randomLag,
      drainMs: row.drainMs,
      untilIdle: row.untilIdle,
      summary,
      rollovers: outcome.rollovers.map((r) => ({ ...r, sigtermAt: r.sigtermAt - outcome.startedAt, exitAt: r.exitAt - outcome.startedAt })),
      records: outcome.records.map((r) => [round(r.at - outcome.startedAt), round(r.latencyMs), r.status, r.kind]),
    })),
  }),
);
const plotted = results.filter(({ row }) => row.primary);
if (plotted.length > 0) {
  writeFileSync(
    `${base}.svg`,
    plotSvg(
      plotted.map(({ row, outcome }) => ({ label: row.label, ...failuresAroundSigterm(outcome) })),
      `Failed requests around SIGTERM (${plotted[0].row.setting}; ${options.rollovers} rollovers summed, 100 ms bins)`,
    ),
  );
}
console.log(`\nraw records, table and plot: ${base}.{json,md${plotted.length ? ",svg" : ""}}`);

/**
 * A run that could not even start its instances (a fork refused by a busy machine, say)
 * is run again from scratch, at most three times; its numbers are never mixed with another's.
 */
async function runRowWithRetry(row) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runRow(row);
    } catch (error) {
      const reason = `${row.setting} — ${row.label}: ${error instanceof Error ? error.message.split("\n")[0] : error}`;
      if (attempt === 4) fail(reason, 1);
      console.log(`  run failed (${reason}); starting it again in 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
  }
}

async function runRow(row) {
  const addresses = new AddressPool();
  const frontend = addresses.take();
  const init = INITS[row.init];
  haproxy = new HaproxyBalancer({
    frontend: { host: frontend.host, port: frontend.appPort },
    retries: row.retries,
    healthCheckPort: init.removal === "health" ? addresses.healthPort : undefined,
  });
  try {
    await haproxy.start();
    const outcome = await runRollovers({
      spawnSpec: (n) => {
        const { host, appPort, healthPort } = addresses.take();
        const app =
          row.app === "nginx"
            ? nginxArgv({ host, port: appPort, dir: join(scratch, `${row.id}-${n}`) })
            : nodeAppArgv({ host, port: appPort, latencyMs: 20 });
        return {
          name: `${row.label} #${n}`,
          argv: [
            ...init.wrap({ drainMs: row.drainMs, untilIdle: row.untilIdle, host, healthPort, stopRewrite: row.stopRewrite }),
            ...app,
          ],
          host,
          port: appPort,
          readyUrl: `http://${host}:${appPort}/healthz`,
        };
      },
      balancer: haproxy,
      target: { host: frontend.host, port: frontend.appPort },
      rollovers: options.rollovers,
      periodMs: periodOf(row),
      // A fresh generator per run: every scenario of the setting draws the same lags.
      lagMs: row.randomLag ? randomLags(row.randomLag) : row.lagMs,
      ratePerSecond: options.rate,
      keepAlive: row.keepAlive,
      controllerRemoves: init.removal === "controller",
      onEvent: (message, load) => console.log(`  ${message} — failed so far: ${load.failed}`),
    });
    return { row, outcome, summary: summarize(outcome.records, outcome.rollovers) };
  } finally {
    await haproxy.stop();
    haproxy = null;
  }
}

/** Time between rollovers: long enough for a drained instance to be gone before the next one. */
function periodOf(row) {
  return (row.randomLag?.maxMs ?? row.lagMs) + 2500;
}

function plannedRows() {
  const rows = [];
  const add = (
    { app = "node", lagMs = 2000, randomLag, drainMs: fixedDrainMs, untilIdle, keepAlive = false, retries = false, primary = false },
    inits,
  ) => {
    for (const id of inits) {
      const init = INITS[id];
      const drainMs = fixedDrainMs ?? lagMs + 1000;
      const removal =
        init.removal === "health"
          ? "health checks"
          : randomLag
            ? `L random ${randomLag.minMs / 1000}–${randomLag.maxMs / 1000}s`
            : `L=${lagMs / 1000}s`;
      const setting = [
        app === "nginx" ? "nginx" : null,
        removal,
        keepAlive ? "keep-alive" : "close",
        retries ? "retries" : "no retries",
      ]
        .filter(Boolean)
        .join(", ");
      const stopRewrite = app === "nginx" && id.startsWith("drainit") ? "TERM:QUIT" : undefined;
      const label = `${app === "nginx" ? "nginx" : "app"}${id === "app" ? " alone" : ` under ${init.label({ drainMs, untilIdle })}`}${stopRewrite ? ` --rewrite ${stopRewrite}` : ""}`;
      rows.push({
        id: `${rows.length}`,
        init: id,
        app,
        lagMs: randomLag ? null : lagMs,
        randomLag,
        drainMs,
        untilIdle,
        keepAlive,
        retries,
        primary,
        setting,
        label,
        stopRewrite,
      });
    }
  };
  add({ primary: true }, ["app", "tini", "dumb-init", "drainit", "drainit-drain", "drainit-health"]);
  add({ keepAlive: true }, ["app", "drainit-drain"]);
  add({ retries: true }, ["app", "drainit-drain"]);
  add({ lagMs: 500 }, ["app", "drainit-drain"]);
  add({ lagMs: 5000 }, ["app", "drainit-drain"]);
  add({ app: "nginx" }, ["app", "drainit-drain"]);
  // The adaptive drain against a fixed one long enough for every lag drawn.
  add(
    {
      randomLag: { minMs: 500, maxMs: 8000, seed: 9 },
      drainMs: 10_000,
      untilIdle: { minMs: 1000, maxMs: 15_000, idleMs: 2000 },
    },
    ["drainit-until-idle", "drainit-drain"],
  );
  return rows;
}

function renderTable(results) {
  const ms = (v) => (v === null ? "–" : v < 10 ? v.toFixed(1) : String(Math.round(v)));
  const lines = [
    "| setting | scenario | requests | failed | failures by kind | failure % | p50 ms | p99 ms | SIGTERM→exit p50 / max s | SIGKILLs |",
    "|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const { row, summary: s } of results) {
    const stop = s.sigtermToExitP50Ms === null ? "–" : `${(s.sigtermToExitP50Ms / 1000).toFixed(2)} / ${(s.sigtermToExitMaxMs / 1000).toFixed(2)}`;
    lines.push(
      `| ${row.setting} | ${row.label} | ${s.requests} | ${s.failed} | ${describeKinds(s.byKind) || "–"} | ` +
        `${s.failurePercent.toFixed(2)} | ${ms(s.latencyP50Ms)} | ${ms(s.latencyP99Ms)} | ${stop} | ${s.sigkills} |`,
    );
  }
  return lines.join("\n");
}

/** For the runs whose lag was drawn at random: how soon the old instance was gone, on average. */
function renderRandomLagTable(results) {
  const random = results.filter(({ row }) => row.randomLag);
  if (random.length === 0) return "";
  const s = (ms) => (ms === null ? "–" : (ms / 1000).toFixed(2));
  const lines = [
    "| setting | scenario | requests | failed | mean lag s | SIGTERM→exit mean / p50 / max s |",
    "|---|---|---:|---:|---:|---:|",
  ];
  for (const { row, summary, outcome } of random) {
    const lags = outcome.rollovers.map((r) => r.lagMs);
    const meanLag = lags.length === 0 ? null : lags.reduce((sum, ms) => sum + ms, 0) / lags.length;
    lines.push(
      `| ${row.setting} | ${row.label} | ${summary.requests} | ${summary.failed} | ${s(meanLag)} | ` +
        `${s(summary.sigtermToExitMeanMs)} / ${s(summary.sigtermToExitP50Ms)} / ${s(summary.sigtermToExitMaxMs)} |`,
    );
  }
  return lines.join("\n");
}

function ensureTools() {
  const needed = ["haproxy", "tini", "dumb-init", "nginx"];
  const missing = needed.filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    console.log(`missing ${missing.join(", ")}: installing the project's Debian packages`);
    execFileSync("bash", [join(ROOT, "scripts", "install-system-packages.sh")], { stdio: "inherit" });
  }
  const stillMissing = needed.filter((tool) => !onPath(tool));
  if (stillMissing.length > 0) fail(`cannot find ${stillMissing.join(", ")} after installing scripts/system-packages.txt`);
  if (!existsSync(DRAINIT)) fail(`${DRAINIT} is missing; run npm run build first`);
}

function onPath(tool) {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, tool)));
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      rollovers: { type: "string" },
      rate: { type: "string", default: "200" },
      only: { type: "string", default: "" },
    },
  });
  const rollovers = Number(values.rollovers ?? (values.quick ? 3 : 10));
  const rate = Number(values.rate);
  if (!(Number.isInteger(rollovers) && rollovers >= 1 && rollovers <= 100)) fail("--rollovers wants 1-100");
  if (!(rate > 0 && rate <= 2000)) fail("--rate wants 1-2000 requests/s");
  let only;
  try {
    only = new RegExp(values.only, "i");
  } catch {
    fail(`--only: '${values.only}' is not a regular expression`);
  }
  return { rollovers, rate, only };
}

function fail(message, code = 2) {
  killEveryInstance();
  console.error(`bench:rollover: ${message}`);
  process.exit(code);
}

function round(value) {
  return Math.round(value * 10) / 10;
}
