// Records every signal it gets, with the host wall clock (comparable with the test's Date.now).
//   node signal-recorder.mjs [--exit-on SIG,SIG] [--exit-code N] [--exit-delay MS]
// Prints {"event":"ready","pid":N} once its listeners are in place, then one line
// {"event":"signal","signal":"SIGQUIT","at":ms} per signal. On a signal listed in --exit-on
// (default SIGTERM,SIGQUIT,SIGINT) it exits with --exit-code (default 0) after --exit-delay ms.
import { writeSync } from "node:fs";

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
}

const exitOn = new Set(option("--exit-on", "SIGTERM,SIGQUIT,SIGINT").split(","));
const exitCode = Number(option("--exit-code", "0"));
const exitDelay = Number(option("--exit-delay", "0"));
const recorded = ["SIGTERM", "SIGQUIT", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

const report = (fields) => writeSync(1, `${JSON.stringify(fields)}\n`);

for (const signal of recorded) {
  process.on(signal, () => {
    report({ event: "signal", signal, at: Date.now() });
    if (exitOn.has(signal)) setTimeout(() => process.exit(exitCode), exitDelay);
  });
}
// Signal listeners alone do not keep the event loop alive.
setInterval(() => {}, 60_000);
report({ event: "ready", pid: process.pid });
