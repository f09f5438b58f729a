// Makes a copy of the Bun runtime that ignores the environment variables which would
// otherwise make drainit run something else before its own code starts:
//   BUN_OPTIONS   --preload/-r run arbitrary code, --version/--help print and exit,
//                 --cwd changes directory or aborts start-up;
//   BUN_BE_BUN=1  turns the executable into the bun CLI (it then runs its argv as a script);
//   BUN_INSPECT*  opens a debugger port, i.e. remote code execution inside PID 1.
// They act in native start-up code, before any JavaScript, and no build flag turns them
// off. The runtime looks them up by name, so renaming every occurrence to lower case
// (an environment nobody sets) disables them; the child still gets them unchanged,
// because drainit passes its environment on as it received it.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";

/** Names the runtime must contain: if a Bun upgrade drops one, look again at what it does. */
const NEUTRALISED_NAMES = ["BUN_OPTIONS", "BUN_BE_BUN", "BUN_INSPECT"];

export function writeNeutralisedRuntime(bunExecutable, outfile) {
  const bytes = readFileSync(bunExecutable);
  for (const name of NEUTRALISED_NAMES) {
    const from = Buffer.from(name, "latin1");
    const to = Buffer.from(name.toLowerCase(), "latin1");
    let found = 0;
    for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, at + from.length)) {
      to.copy(bytes, at);
      found += 1;
    }
    if (found === 0) throw new Error(`${bunExecutable} does not mention ${name}: check how this Bun version reads it`);
  }
  writeFileSync(outfile, bytes);
  chmodSync(outfile, 0o755);
}
