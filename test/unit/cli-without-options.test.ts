// A command line without options skips the option parser: it must read exactly as it would
// through the parser. Each case is compared with the same command line behind `--drain 0`,
// an option that sets the default again and so sends the parse through the parser.
import { beforeAll, describe, expect, it } from "vitest";
import { loadOptionParser, parseCommandLine, type Environment } from "../../src/cli/yargs-cli.ts";

beforeAll(loadOptionParser);

const NO_OP_OPTION = ["--drain", "0"];

function outcome(args: string[], env: Environment, invokedAs: string): unknown {
  try {
    return parseCommandLine(args, env, invokedAs);
  } catch (error) {
    return { threw: (error as Error).constructor.name, message: (error as Error).message };
  }
}

const COMMAND_LINES: string[][] = [
  ["--", "app"],
  ["--", "app", "--port", "80"],
  ["app", "-c", "--", "x"],
  ["sh", "-c", "echo $$"],
  ["--", "--", "x"],
  ["--", "-c"],
  ["app", "--"],
  ["a b", "--x"],
  ["", "x"],
  [""],
  ["--"],
];

const ENVIRONMENTS: Array<[string, Environment, string]> = [
  ["no environment", {}, "/usr/local/bin/drainit"],
  [
    "DRAINIT_* settings",
    {
      DRAINIT_VERBOSE: "2",
      DRAINIT_REWRITE: "TERM:QUIT,USR1:0",
      DRAINIT_GRACE: "10s",
      DRAINIT_SINGLE_CHILD: "1",
      DRAINIT_STOP_SIGNAL: "INT",
      DRAINIT_DRAIN_FILE: "/tmp/draining",
      DRAINIT_NO_SUCH_OPTION: "x",
    },
    "/usr/local/bin/drainit",
  ],
  ["tini's variables, invoked as tini", { TINI_SUBREAPER: "", TINI_VERBOSITY: "3" }, "/sbin/tini"],
  ["dumb-init's variables, invoked as dumb-init", { DUMB_INIT_SETSID: "0" }, "/usr/bin/dumb-init"],
];

describe("a command line without options", () => {
  for (const [label, env, invokedAs] of ENVIRONMENTS) {
    it.each(COMMAND_LINES.map((args) => [JSON.stringify(args), args]))(
      `reads %s as the option parser does (${label})`,
      (_, args) => {
        const direct = outcome(args as string[], env, invokedAs);
        const parsed = outcome([...NO_OP_OPTION, ...(args as string[])], env, invokedAs);
        expect(direct).toEqual(parsed);
      },
    );
  }

  it("runs the command that follows, verbatim", () => {
    const invocation = parseCommandLine(["--", "app", "-v", "--", ""], {}, "drainit");
    expect(invocation.kind).toBe("run");
    if (invocation.kind === "run") expect(invocation.config.command).toEqual(["app", "-v", "--", ""]);
  });

  it("still rejects an empty command", () => {
    expect(() => parseCommandLine(["--"], {}, "drainit")).toThrow(/no command/);
  });
});
