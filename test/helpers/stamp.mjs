// A drain hook that writes when it ran and where: {"at":ms,"cwd":"..."} into FILE (relative
// paths resolve against the hook's working directory), after sleeping DELAY ms, then exits CODE.
//   node stamp.mjs FILE [DELAY] [CODE]
import { writeFileSync } from "node:fs";

const [file, delay = "0", code = "0"] = process.argv.slice(2);
setTimeout(() => {
  writeFileSync(file, JSON.stringify({ at: Date.now(), cwd: process.cwd() }));
  process.exit(Number(code));
}, Number(delay));
