// Generated command lines and environments. The parser must either produce an invocation or
// reject the input with one line; the compiled binary must agree with it, print no stack
// trace or source preview, and leave no process behind.
import { spawn } from "node:child_process";
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseCommandLine, type Environment, type Invocation } from "../../src/cli/cli.ts";
import { PERSONALITIES, spellingsOf } from "../../src/cli/options.ts";

import { UsageError } from "../../src/config.ts";
import { DRAINIT } from "../e2e/harness.ts";
import { FULL, figure, processesWithMarker, sized } from "./stress-support.ts";

const IN_PROCESS_RUNS = sized(20_000, 3_000);
const BINARY_RUNS = sized(2_000, 200);
const SEED = Number(process.env.DRAINIT_FUZZ_SEED ?? 20_261_121);

const scratch = mkdtempSync(join(tmpdir(), "drainit-fuzz-"));
const NOT_EXECUTABLE = join(scratch, "not-executable");
writeFileSync(NOT_EXECUTABLE, "#!/bin/sh\necho ran\n");
chmodSync(NOT_EXECUTABLE, 0o644);
// The names drainit can be invoked by, as links, so that the personality follows argv[0].
const INVOKED_AS = ["drainit", "tini", "dumb-init", "tini-static", "docker-init", "catatonit", "podman-init"];
for (const name of INVOKED_AS) symlinkSync(DRAINIT, join(scratch, name));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Commands whose outcome is known: the exit code drainit must pass on (before --remap-exit). */
const COMMANDS: { argv: string[]; code: number }[] = [
  { argv: ["sh", "-c", "echo ran; exit 3"], code: 3 },
  { argv: ["true"], code: 0 },
  // Leaves a grandchild in the child's group: drainit must end it before it exits.
  // (Its output goes elsewhere, so that a grandchild left behind cannot hold the run's pipes open.)
  { argv: ["sh", "-c", "echo ran; sleep 30 >/dev/null 2>&1 & exit 0"], code: 0 },
  { argv: ["drainit-fuzz-no-such-command"], code: 127 },
  { argv: [NOT_EXECUTABLE], code: 126 },
];

/** Every spelling of every option in the table, and forms that must be refused or read as getopt does. */
const OPTION_NAMES = [
  ...new Set(PERSONALITIES.flatMap(spellingsOf)),
  "-vv", "-cgsw", "-x", "--bogus", "--no-group", "--drain=", "--grace=1s", "--rewrite=TERM:QUIT", "-r=INT:0",
  "-r15:3", "-rUSR1:USR2", "-pSIGTERM", "-e3", "-cv", "-vvv", "-ce143", "---", "-", "--",
];

const VALUES = [
  // durations
  "0", "1", "0.05", "50ms", "5s", "2m", "1.5h", "-1", "1e3", "5 s", "ms", "10x", "1..3s", "0..0", "∞", "NaN",
  // signals and rewrites
  "TERM", "SIGUSR1", "usr2", "9", "64", "65", "0", "KILL", "FOO", "TERM:QUIT", "INT:0", "TERM:0", "1:2:3", ":", "HUP:",
  // addresses, URLs, paths, formats, exit codes
  "127.0.0.1:0", "0.0.0.0:99999", "[::1]:0", "localhost", ":80", "http://127.0.0.1:9/drain", "ftp://x", "http://",
  "sh -c 'exit 0'", "a | b", "$HOME", "text", "json", "xml", "255", "256", "3,4", "",
  `${scratch}/drain-file`, "/proc/none/x",
];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...OPTION_NAMES) },
  { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
);

const ENV_NAMES = [
  "DRAINIT_DRAIN", "DRAINIT_GRACE", "DRAINIT_REWRITE", "DRAINIT_STOP_SIGNAL", "DRAINIT_SINGLE_CHILD",
  "DRAINIT_GROUP", "DRAINIT_LOG_FORMAT", "DRAINIT_VERBOSE", "DRAINIT_HEALTH", "DRAINIT_DRAIN_HOOK",
  "DRAINIT_REMAP_EXIT", "DRAINIT_BUDGET", "DRAINIT_HOOK_TIMEOUT", "DRAINIT_SUBREAPER", "DRAINIT_DRAN", "DRAINIT_QUIET",
  "TINI_SUBREAPER", "TINI_VERBOSITY", "TINI_KILL_PROCESS_GROUP", "DUMB_INIT_SETSID",
];

const environment = fc.dictionary(
  fc.constantFrom(...ENV_NAMES),
  fc.oneof(fc.constantFrom(...VALUES, "true", "false", "yes", "maybe"), fc.string({ maxLength: 8 })),
  { maxKeys: 3 },
);

interface Case {
  args: string[];
  env: Record<string, string>;
  invokedAs: string;
  command: number;
}

const cases: fc.Arbitrary<Case> = fc.record({
  options: fc.array(token, { maxLength: 7 }),
  separator: fc.boolean(),
  command: fc.nat({ max: COMMANDS.length - 1 }),
  withCommand: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  env: environment,
  invokedAs: fc.constantFrom(...INVOKED_AS.map((name) => join(scratch, name))),
}).map(({ options, separator, command, withCommand, env, invokedAs }) => ({
  args: [...options, ...(withCommand ? [...(separator ? ["--"] : []), ...COMMANDS[command]!.argv] : [])],
  env,
  invokedAs,
  command,
}));

type Parsed = { ok: Invocation } | { usage: string };

/** The in-process verdict; anything but an Invocation or a UsageError fails the caller. */
function parse(c: Case): Parsed {
  try {
    return { ok: parseCommandLine(c.args, c.env as Environment, c.invokedAs) };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { usage: error.message };
  }
}

describe("fuzzed command line", () => {
  it(`parses ${IN_PROCESS_RUNS} generated command lines: an invocation or a one-line usage error`, () => {
    const outcomes = { run: 0, usage: 0, other: 0 };
    fc.assert(
      fc.property(cases, (c) => {
        const parsed = parse(c);
        if ("usage" in parsed) {
          outcomes.usage += 1;
          expect(parsed.usage.length).toBeGreaterThan(0);
          expect(parsed.usage).not.toMatch(/[\r\n]/);
          expect(parsed.usage.length).toBeLessThan(400);
          return;
        }
        if (parsed.ok.kind === "run") {
          outcomes.run += 1;
          expect(parsed.ok.config.command.length).toBeGreaterThan(0);
        } else outcomes.other += 1;
      }),
      { numRuns: IN_PROCESS_RUNS, seed: SEED },
    );
    figure("fuzz in-process", `${IN_PROCESS_RUNS} cases: ${outcomes.run} run, ${outcomes.usage} usage errors, ${outcomes.other} help/version/sleep`);
    // The generator must reach both verdicts in numbers, or the property proves little.
    expect(outcomes.run).toBeGreaterThan(IN_PROCESS_RUNS / 20);
    expect(outcomes.usage).toBeGreaterThan(IN_PROCESS_RUNS / 20);
  }, FULL ? 600_000 : 60_000);

  it(
    `runs ${BINARY_RUNS} of them through the compiled binary: it agrees with the parser and leaves nothing behind`,
    async () => {
      const sample = fc.sample(fc.tuple(cases, fc.boolean()), { numRuns: BINARY_RUNS * 3, seed: SEED + 1 });
      const chosen = sample
        .filter(([c]) => c.args.length > 0)
        .filter(([c]) => {
          // A long --sleep would only test the clock; pause mode waits for a TERM (tested on its own).
          const parsed = parse(c);
          if ("ok" in parsed && parsed.ok.kind === "pause") return false;
          return !("ok" in parsed && parsed.ok.kind === "sleep" && parsed.ok.ms > 300);
        })
        .slice(0, BINARY_RUNS);
      expect(chosen.length).toBe(BINARY_RUNS);
      const verdicts = { usage: 0, ran: 0, other: 0 };
      let next = 0;
      const worker = async () => {
        while (next < chosen.length) {
          const [c, asPid1] = chosen[next++]!;
          verdicts[await checkAgainstBinary(c, asPid1)] += 1;
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      figure("fuzz binary", `${BINARY_RUNS} cases: ${verdicts.ran} ran, ${verdicts.usage} exit 2, ${verdicts.other} help/version/sleep`);
    },
    FULL ? 900_000 : 120_000,
  );
});

let runCount = 0;

async function checkAgainstBinary(c: Case, asPid1: boolean): Promise<"usage" | "ran" | "other"> {
  const mark = `${process.pid}-${++runCount}`;
  const marker = `FUZZ_RUN_MARK=${mark}`;
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...c.env, FUZZ_RUN_MARK: mark };
  const result = await runBinary(c.invokedAs, c.args, env, asPid1);
  const context = `case ${JSON.stringify({ ...c, asPid1 })} → ${JSON.stringify(result)}`;
  const stderrLines = result.stderr.split("\n").filter(Boolean);

  // Whatever happened: no stack trace, no source preview, no runtime crash banner.
  expect(result.stderr, context).not.toMatch(/^\s+at\s|^\s*\d+\s*\|\s|Bun v\d|panic|oh no|\^\s*$/m);
  expect(result.signal, context).toBeNull();
  const left = processesWithMarker(marker);
  for (const pid of left) process.kill(pid, "SIGKILL");
  const parsed = parse(c);

  if ("usage" in parsed) {
    expect(result.code, context).toBe(2);
    expect(stderrLines, context).toEqual([`drainit: ${parsed.usage} (see drainit --help)`]);
    expect(result.stdout, context).not.toContain("ran");
    expect(left, context).toEqual([]);
    return "usage";
  }
  const invocation = parsed.ok;
  if (invocation.kind !== "run") {
    expect(result.code, context).toBe(0);
    expect(left, context).toEqual([]);
    return "other";
  }
  const config = invocation.config;
  if (result.code === 2) {
    // The only usage error the parser cannot see: the health address cannot be bound.
    expect(config.health, context).not.toBeNull();
    expect(stderrLines.filter((l) => !l.includes("is set but drainit has no such option")), context).toHaveLength(1);
    expect(stderrLines.at(-1), context).toMatch(/--health/);
    expect(result.stdout, context).not.toContain("ran");
    return "usage";
  }
  const known = COMMANDS.find((k) => k.argv.join("\0") === config.command.join("\0"));
  if (known) {
    expect(result.code, context).toBe(config.remapExit.has(known.code) ? 0 : known.code);
  } else if (!onPath(config.command[0]!, env.PATH!)) {
    // A generated word became the command: it cannot be run, and drainit says so in one line.
    const code = result.code!;
    expect([126, 127].map((c) => (config.remapExit.has(c) ? 0 : c)), context).toContain(code);
    const last = stderrLines.at(-1) ?? "";
    if (config.logFormat === "json") expect((JSON.parse(last) as { msg: string }).msg, context).toMatch(/^cannot run '/);
    else expect(last, context).toMatch(/^drainit: cannot run '/);
  }
  // With --single-child drainit does not touch the child's group, as dumb-init -c and tini do not;
  // as PID 1 its exit still ends everything in the namespace.
  if (asPid1 || !config.singleChild) expect(left, context).toEqual([]);
  return "ran";
}

/** Whether posix_spawnp would find `name` (a generated word may happen to name a real program). */
function onPath(name: string, path: string): boolean {
  if (name === "") return false;
  const candidates = name.includes("/") ? [name] : path.split(":").map((dir) => join(dir, name));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

interface BinaryResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runBinary(binary: string, args: string[], env: Record<string, string>, asPid1: boolean): Promise<BinaryResult> {
  const [command, argv] = asPid1 ? ["unshare", ["--pid", "--fork", "--mount-proc", binary, ...args]] : [binary, args];
  return new Promise((resolve, reject) => {
    // In the scratch directory: a generated relative path (--export-rootfs, --drain-file) lands there.
    const child = spawn(command, argv, { env, cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
