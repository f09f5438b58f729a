// Shows on its terminal each SIGINT, SIGHUP and SIGCONT it gets, numbered: "got SIGHUP #1".
// On SIGINT it waits a second, so that a second copy would still be counted, prints
// "SIGINT total N" and exits 130, as a program killed by Ctrl-C would.
import { writeSync } from "node:fs";

const counts = new Map();
const say = (text) => writeSync(1, `${text}\n`);

for (const signal of ["SIGINT", "SIGHUP", "SIGCONT"]) {
  process.on(signal, () => {
    const count = (counts.get(signal) ?? 0) + 1;
    counts.set(signal, count);
    say(`got ${signal} #${count}`);
    if (signal === "SIGINT" && count === 1) {
      setTimeout(() => {
        say(`SIGINT total ${counts.get("SIGINT")}`);
        process.exit(130);
      }, 1_000);
    }
  });
}
// Signal listeners alone do not keep the event loop alive.
setInterval(() => {}, 60_000);
say(`recorder ready pid=${process.pid}`);
