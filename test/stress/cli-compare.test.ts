// The option-table parser against the yargs-based one it replaces, on 10,000 generated command
// lines: every line both accept must give the same invocation. The differences that are meant
// are recognised one by one below; anything else fails.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommandLine, type Invocation } from "../../src/cli/cli.ts";
import { OPTION_ROWS, longSpelling } from "../../src/cli/options.ts";
import { loadOptionParser, parseCommandLine as parseWithYargs } from "../../src/cli/yargs-cli.ts";
import { UsageError } from "../../src/config.ts";

const RUNS = 10_000;
const SEED = Number(process.env.DRAINIT_FUZZ_SEED ?? 20_261_129);

const SPELLINGS = OPTION_ROWS.flatMap((row) => [longSpelling(row), row.short ? `-${row.short}` : null]).filter(
  (s): s is string => s !== null,
);
const OTHER_TOKENS = [
  "-vv", "-vvv", "-cv", "-cgsw", "-x", "--bogus", "--no-group", "--drain=", "--drain=5s", "--grace=1s",
  "--rewrite=TERM:QUIT", "-r=INT:0", "-r15:3", "-rUSR1:USR2", "-pSIGTERM", "-e3", "-e143", "-cr15:3", "-ve3",
  "---", "-", "--",
];
const VALUES = [
  "0", "1", "0.05", "50ms", "5s", "2m", "1.5h", "1d", "400d", "-1", "-5s", "1e3", "5 s", "ms", "10x", "1..3s", "0..0",
  "TERM", "SIGUSR1", "usr2", "9", "64", "65", "KILL", "FOO", "TERM:QUIT", "INT:0", "TERM:0", "1:2:3", ":",
  "127.0.0.1:0", ":80", "http://127.0.0.1:9/drain", "ftp://x", "sh -c 'exit 0'", "a | b", "text", "json", "xml",
  "255", "256", "3,4", "", "/tmp/drain-file", "app", "sh", "-c",
];
const ENV_NAMES = [
  "DRAINIT_DRAIN", "DRAINIT_GRACE", "DRAINIT_REWRITE", "DRAINIT_STOP_SIGNAL", "DRAINIT_SINGLE_CHILD",
  "DRAINIT_GROUP", "DRAINIT_LOG_FORMAT", "DRAINIT_VERBOSE", "DRAINIT_HEALTH", "DRAINIT_DRAIN_HOOK",
  "DRAINIT_REMAP_EXIT", "DRAINIT_BUDGET", "DRAINIT_HOOK_TIMEOUT", "DRAINIT_SUBREAPER", "DRAINIT_DRAN",
  "DRAINIT_QUIET", "DRAINIT_SLEEP", "TINI_SUBREAPER", "TINI_VERBOSITY", "TINI_KILL_PROCESS_GROUP", "DUMB_INIT_SETSID",
];
/** Names whose personality did not change (docker-init, podman-init and catatonit were drainit's before). */
const INVOKED_AS = ["/drainit", "/sbin/tini", "/usr/bin/dumb-init", "/tini-static"];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPELLINGS, ...OTHER_TOKENS) },
  { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const cases = fc.record({
  args: fc.array(token, { maxLength: 7 }),
  tail: fc.constantFrom([], ["app"], ["--", "app"], ["sh", "-c", "x"]),
  env: fc.dictionary(fc.constantFrom(...ENV_NAMES), fc.constantFrom(...VALUES, "true", "no", "maybe", "2"), { maxKeys: 3 }),
  invokedAs: fc.constantFrom(...INVOKED_AS),
});

type Outcome = { ok: Invocation } | { usage: string };

function outcome(parse: typeof parseCommandLine, args: string[], env: Record<string, string>, invokedAs: string): Outcome {
  try {
    return { ok: parse(args, env, invokedAs) };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { usage: error.message };
  }
}

/** Comparable form: Maps and Sets as arrays. */
function plain(invocation: Invocation): unknown {
  return JSON.parse(JSON.stringify(invocation, (_, value) => (value instanceof Map || value instanceof Set ? [...value] : value)));
}

const DRAIN_OPTIONS = OPTION_ROWS.filter((row) => row.section === "drain");

/** Intended differences between two accepted invocations, or null when there is another one. */
function intendedDifference(old: Invocation, now: Invocation, args: string[], env: Record<string, string>, invokedAs: string): string | null {
  if (old.kind === "help" && now.kind === "help") return "help text written from the table";
  if (old.kind === "version" && now.kind === "version" && /tini/.test(invokedAs)) return "tini's version line, which dockerd parses";
  if (old.kind === "run" && now.kind === "run") {
    const drainAsked =
      DRAIN_OPTIONS.some((row) => row.env && env[row.env]) ||
      args.some((arg) => DRAIN_OPTIONS.some((row) => arg === `--${row.long}` || arg.startsWith(`--${row.long}=`)));
    const reasons: string[] = [];
    let patched: Invocation = old;
    if (!invokedAs.endsWith("/drainit") && drainAsked && old.config.verbosity !== now.config.verbosity) {
      patched = { ...patched, config: { ...old.config, verbosity: now.config.verbosity } };
      reasons.push("under a peer's name a drain option shows its log lines");
    }
    if (env.DRAINIT_QUIET !== undefined && patched.kind === "run" && patched.config.verbosity !== now.config.verbosity) {
      patched = { ...patched, config: { ...patched.config, verbosity: now.config.verbosity } };
      reasons.push("DRAINIT_QUIET is read");
    }
    if (JSON.stringify(old.warnings) !== JSON.stringify(now.warnings)) {
      patched = { ...patched, warnings: now.warnings };
      reasons.push("warnings about variables derived from the table");
    }
    if (reasons.length && JSON.stringify(plain(patched)) === JSON.stringify(plain(now))) return reasons.join(" + ");
  }
  return null;
}

/** Why the yargs parser accepted a line the new one refuses, when that is meant; else null. */
function whyOnlyOldAccepts(message: string, args: string[], invokedAs: string): string | null {
  if (/^DRAINIT_(VERBOSE|QUIET): '.*' is not a number$/.test(message)) return "a count variable must hold a number";
  if (/^unknown option '(-l|--license)'$/.test(message) && invokedAs.endsWith("dumb-init")) return "-l is tini's, dumb-init has none";
  if (/^unknown option '(-\d|---.*)'$/.test(message)) return "a word like -1 or --- is an option, as getopt reads it, not the command";
  const attachedEquals = args.some((arg) => /^-[a-zA-Z]*[rep]=/.test(arg));
  if (attachedEquals && /'=/.test(message)) return "-r=X attaches '=X', as getopt reads it";
  return null;
}

/** Why the new parser accepts a line the yargs one refused, when that is meant; else null. */
function whyOnlyNewAccepts(message: string, args: string[]): string | null {
  const options = args.slice(0, Math.max(0, args.indexOf("--")) || args.length);
  if (/^Unknown arguments?: /.test(message) && options.some((arg) => /^-[a-zA-Z]*[rep]./.test(arg))) {
    return "attached short values (-r15:3, -pSIGTERM, -e3)";
  }
  if (/^Not enough arguments following: /.test(message)) return "a value that starts with '-' (or is '--') is taken, as getopt takes it";
  return null;
}

describe("the option-table parser against the yargs one", () => {
  it(`gives the same invocation for every one of ${RUNS} command lines both accept`, async () => {
    await loadOptionParser();
    const tally = new Map<string, number>();
    const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);
    fc.assert(
      fc.property(cases, ({ args: options, tail, env, invokedAs }) => {
        const args = [...options, ...tail];
        const old = outcome(parseWithYargs, args, env, invokedAs);
        const now = outcome(parseCommandLine, args, env, invokedAs);
        const show = JSON.stringify({ args, env, invokedAs });
        if ("usage" in old && "usage" in now) return void count("both reject");
        if ("usage" in old) {
          const why = whyOnlyNewAccepts(old.usage, args);
          expect(why, `${show}: the old parser said ${old.usage}`).not.toBeNull();
          return void count(`only the new one accepts: ${why}`);
        }
        if ("usage" in now) {
          const why = whyOnlyOldAccepts(now.usage, args, invokedAs);
          expect(why, `${show}: the new parser says ${now.usage}`).not.toBeNull();
          return void count(`only the old one accepts: ${why}`);
        }
        if (JSON.stringify(plain(old.ok)) === JSON.stringify(plain(now.ok))) return void count("same invocation");
        const why = intendedDifference(old.ok, now.ok, args, env, invokedAs);
        expect(why, `${show}\nold ${JSON.stringify(plain(old.ok))}\nnew ${JSON.stringify(plain(now.ok))}`).not.toBeNull();
        count(`both accept, differ as intended: ${why}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const lines = [...tally].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${String(n).padStart(6)}  ${what}`);
    console.log(lines.join("\n"));
    expect(tally.get("same invocation") ?? 0).toBeGreaterThan(RUNS / 10);
  }, 600_000);
});
