// The child the stress tests run under drainit. It counts the signals it receives, has orphans
// made on request, and reports as JSON lines on stdout:
//   {"event":"ready","pid":N}
//   {"event":"orphans","count":N,"seconds":S}   after a file CONTROL/orphans-N appeared
//   {"event":"counts","counts":{...}}           after a file CONTROL/report appeared
//   {"event":"term","counts":{...}}             on SIGTERM, then exit 42
// Node's signal handling only sets a flag in the handler, so no storm can overflow or corrupt it.
// Usage: node storm-child.mjs CONTROL-DIR
import { spawn } from "node:child_process";
import { readdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const control = process.argv[2];
if (!control) {
  process.stderr.write("usage: storm-child.mjs CONTROL-DIR\n");
  process.exit(2);
}
const ORPHAN_MAKER = join(dirname(fileURLToPath(import.meta.url)), "orphan-maker.pl");
const COUNTED = ["USR1", "USR2", "HUP", "WINCH", "INT", "QUIT", "ALRM", "URG"];
const counts = Object.fromEntries(COUNTED.map((name) => [name, 0]));
for (const name of COUNTED) process.on(`SIG${name}`, () => (counts[name] += 1));
process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ event: "term", counts })}\n`, () => process.exit(42));
});

// The orphan maker runs from the start, its signals ignored before it says ready: a process
// started in the middle of a storm could be killed by a forwarded signal before it ignores them.
const maker = spawn("perl", [ORPHAN_MAKER], { stdio: ["pipe", "pipe", "inherit"] });
const answers = createInterface({ input: maker.stdout });
let pending = null;
answers.on("line", (line) => {
  if (line === "ready") {
    console.log(JSON.stringify({ event: "ready", pid: process.pid }));
    setInterval(poll, 5);
  } else if (pending && line === `made ${pending.count}`) {
    const seconds = (performance.now() - pending.started) / 1000;
    console.log(JSON.stringify({ event: "orphans", count: pending.count, seconds: Number(seconds.toFixed(3)) }));
    pending = null;
  }
});

function poll() {
  if (pending) return;
  let requests;
  try {
    requests = readdirSync(control).filter((name) => /^(orphans-\d+|report)$/.test(name)).sort();
  } catch {
    return;
  }
  for (const request of requests) {
    unlinkSync(join(control, request));
    if (request === "report") {
      console.log(JSON.stringify({ event: "counts", counts }));
      continue;
    }
    pending = { count: Number(request.slice("orphans-".length)), started: performance.now() };
    maker.stdin.write(`${pending.count}\n`);
    return;
  }
}
