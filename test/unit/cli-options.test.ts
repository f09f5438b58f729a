// The option table and what is derived from it: the getopt-style parser, the personalities'
// flag sets, the environment, --help, the version line dockerd parses.
import { describe, expect, it } from "vitest";
import { parseCommandLine, type Environment, type Invocation } from "../../src/cli/cli.ts";
import { splitShellWords } from "../../src/cli/drain-hook.ts";
import { helpText } from "../../src/cli/help.ts";
import { OPTION_ROWS, PERSONALITIES, longSpelling, spellingsOf, type Personality } from "../../src/cli/options.ts";
import { personalityOf, versionText } from "../../src/cli/personalities.ts";
import { LogLevel, MAX_DURATION_MS, UsageError, parseDuration, type Config } from "../../src/config.ts";
import { SIGNALS } from "../../src/signals.ts";

const sig = (name: string): number => SIGNALS[name]!;

function invoke(args: string[], env: Environment = {}, invokedAs = "/drainit"): Invocation {
  return parseCommandLine(args, env, invokedAs);
}

function configOf(args: string[], env: Environment = {}, invokedAs = "/drainit"): Config {
  const invocation = invoke(args, env, invokedAs);
  if (invocation.kind !== "run") throw new Error(`expected a run, got ${invocation.kind}`);
  return invocation.config;
}

function errorOf(args: string[], env: Environment = {}, invokedAs = "/drainit"): string {
  try {
    invoke(args, env, invokedAs);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(args)}`);
}

const NAME_OF: Record<Personality, string> = {
  drainit: "/drainit",
  "dumb-init": "/usr/bin/dumb-init",
  tini: "/sbin/tini",
  catatonit: "/catatonit",
};

describe("option values as getopt reads them", () => {
  it.each(PERSONALITIES)("takes attached short values as %s", (personality) => {
    const config = configOf(["-r15:3", "-rUSR1:USR2", "-pSIGTERM", "-e3", "--", "app"], {}, NAME_OF[personality]);
    expect(config.rewrites.get(15)).toBe(3);
    expect(config.rewrites.get(sig("USR1"))).toBe(sig("USR2"));
    expect(config.pdeathsig).toBe(sig("TERM"));
    expect([...config.remapExit]).toEqual([3]);
  });

  it("takes --long=value and --long value alike", () => {
    expect(configOf(["--drain=5s", "app"]).drainMs).toBe(5_000);
    expect(configOf(["--drain", "5s", "app"]).drainMs).toBe(5_000);
    expect(configOf(["--drain-hook=notify --now", "app"]).drainHook).toMatchObject({ argv: ["notify", "--now"] });
  });

  it("combines short flags, and a value option ends the cluster with its value", () => {
    expect(configOf(["-cv", "app"])).toMatchObject({ singleChild: true, verbosity: LogLevel.debug });
    expect(configOf(["-vvv", "-q", "app"]).verbosity).toBe(LogLevel.trace);
    const config = configOf(["-swr15:3", "app"]);
    expect(config).toMatchObject({ subreaper: true, warnOnReap: true });
    expect(config.rewrites.get(15)).toBe(3);
    expect(configOf(["-ce", "143", "app"]).remapExit).toEqual(new Set([143]));
  });

  it("takes the next word as the value whatever it looks like", () => {
    expect(configOf(["--drain-file", "-x", "app"]).drainFile).toBe("-x");
    expect(errorOf(["--drain", "-5s", "app"])).toMatch(/^--drain: '-5s' is not a duration/);
  });

  it("stops at the first operand: what follows belongs to the command", () => {
    expect(configOf(["-c", "app", "-g", "--drain", "5s"])).toMatchObject({
      command: ["app", "-g", "--drain", "5s"],
      singleChild: true,
      drainMs: 0,
    });
  });

  it("ends options at --, even before a word that looks like one", () => {
    expect(configOf(["-c", "--", "--drain", "5s"]).command).toEqual(["--drain", "5s"]);
    expect(configOf(["--", "--"]).command).toEqual(["--"]);
    expect(configOf(["-", "x"]).command).toEqual(["-", "x"]);
  });

  it("names the option in every parse error", () => {
    expect(errorOf(["--drain"])).toBe("--drain needs a value");
    expect(errorOf(["-r"])).toBe("-r needs a value");
    expect(errorOf(["-cr"])).toBe("-r needs a value");
    expect(errorOf(["--bogus", "app"])).toBe("unknown option '--bogus'");
    expect(errorOf(["-cZ", "app"])).toBe("unknown option '-Z'");
    expect(errorOf(["--single-child=yes", "app"])).toBe("--single-child takes no value");
    expect(errorOf(["--no-group", "app"])).toBe("unknown option '--no-group'");
  });
});

describe("personalities", () => {
  it("maps every init's name to its personality", () => {
    expect(personalityOf("/sbin/docker-init")).toBe("tini");
    expect(personalityOf("/run/podman-init")).toBe("catatonit");
    expect(personalityOf("/usr/bin/catatonit")).toBe("catatonit");
    expect(personalityOf("/usr/libexec/podman/catatonit")).toBe("catatonit");
    expect(personalityOf("docker-init-x")).toBe("drainit");
  });

  it.each(PERSONALITIES)("accepts every spelling the table gives %s, and no other", (personality) => {
    const accepted = new Set(spellingsOf(personality));
    for (const row of OPTION_ROWS) {
      for (const spelling of [longSpelling(row), row.short ? `-${row.short}` : null]) {
        if (spelling === null) continue;
        let outcome: string;
        try {
          invoke([spelling, ...(row.kind === "value" || row.kind === "repeatable" ? ["1"] : []), "app"], {}, NAME_OF[personality]);
          outcome = "accepted";
        } catch (error) {
          outcome = (error as Error).message;
        }
        if (accepted.has(spelling)) expect(outcome, spelling).not.toMatch(/^unknown option/);
        else expect(outcome, spelling).toBe(`unknown option '${spelling}'`);
      }
    }
  });

  it("keeps the peers' own flags to their names", () => {
    expect(errorOf(["-P"])).toBe("unknown option '-P'");
    expect(errorOf(["-L"], {}, "/sbin/tini")).toBe("unknown option '-L'");
    expect(errorOf(["-l"], {}, "/usr/bin/dumb-init")).toBe("unknown option '-l'");
    expect(invoke(["-L"], {}, "/catatonit").kind).toBe("version");
  });

  it.each(["/sbin/docker-init", "/sbin/tini", "/catatonit", "/run/podman-init"])(
    "as %s signals the child alone unless -g, and logs warnings only",
    (name) => {
      expect(configOf(["--", "app"], {}, name)).toMatchObject({ singleChild: true, verbosity: LogLevel.warn });
      expect(configOf(["-g", "--", "app"], {}, name).singleChild).toBe(false);
    },
  );

  it("shows a drain's log lines and timeline under a peer's name when a drain option asks for them", () => {
    for (const name of ["/sbin/docker-init", "/run/podman-init", "/usr/bin/dumb-init"]) {
      expect(configOf(["--drain", "5s", "--", "app"], {}, name).verbosity).toBe(LogLevel.info);
      expect(configOf(["--", "app"], { DRAINIT_GRACE: "5s" }, name).verbosity).toBe(LogLevel.info);
      expect(configOf(["-q", "--drain", "5s", "--", "app"], {}, name).verbosity).toBe(LogLevel.warn);
    }
  });

  it("honours CATATONIT_DEBUG as catatonit", () => {
    expect(configOf(["app"], { CATATONIT_DEBUG: "1" }, "/catatonit").verbosity).toBe(LogLevel.debug);
    expect(configOf(["app"], { CATATONIT_DEBUG: "1" }).verbosity).toBe(LogLevel.info);
  });

  it("runs catatonit's pause mode with -P, without a command", () => {
    expect(invoke(["-P"], {}, "/catatonit")).toEqual({ kind: "pause", warnings: [] });
    expect(invoke(["-gP"], {}, "/run/podman-init").kind).toBe("pause");
    expect(errorOf(["-P", "app"], {}, "/catatonit")).toBe("-P (pause mode) takes no command");
  });
});

/** dockerd's parseInitVersion (daemon/info_unix.go), re-implemented step for step. */
function dockerdParseInitVersion(output: string): { version: string; commit: string; error: string | null } {
  const parts = output.split(" - ");
  let commit = "";
  let version = "";
  if (parts.length >= 2) {
    const gitParts = parts[1]!.trim().split(".");
    if (gitParts.length === 2 && gitParts[0] === "git") commit = gitParts[1]!;
  }
  parts[0] = parts[0]!.trim();
  if (parts[0].startsWith("tini version ")) version = parts[0].slice("tini version ".length);
  return { version, commit, error: version === "" && commit === "" ? `unknown output format: ${output}` : null };
}

describe("the version line", () => {
  it("parses like dockerd's own test cases (the re-implementation is faithful)", () => {
    expect(dockerdParseInitVersion("tini version 0.13.0 - git.949e6fa")).toEqual({ version: "0.13.0", commit: "949e6fa", error: null });
    expect(dockerdParseInitVersion("tini version 0.13.0\n")).toMatchObject({ version: "0.13.0", commit: "" });
    expect(dockerdParseInitVersion(" - git.949e6fa")).toMatchObject({ version: "", commit: "949e6fa", error: null });
    expect(dockerdParseInitVersion("tini version0.13.2").error).not.toBeNull();
    expect(dockerdParseInitVersion(" - ").error).not.toBeNull();
    expect(dockerdParseInitVersion("drainit 0.1.0 (bun 1.4.5, linux-x64)\n").error).not.toBeNull();
  });

  it.each(["/sbin/docker-init", "/usr/bin/tini", "/run/podman-init", "/catatonit"])(
    "as %s is one dockerd parses, and still names drainit and its version",
    (name) => {
      const invocation = invoke(["--version"], {}, name);
      expect(invocation.kind).toBe("version");
      const text = invocation.kind === "version" ? invocation.text : "";
      expect(text).toBe(versionText(personalityOf(name)));
      expect(text).toMatch(/^[^\n]*\n$/);
      const parsed = dockerdParseInitVersion(text);
      expect(parsed.error).toBeNull();
      expect(parsed.commit).toBe("drainit");
      // Some dockerd versions slice their own 7-character commit id to this length.
      expect(parsed.commit.length).toBeLessThanOrEqual(7);
      expect(parsed.version).toMatch(/^drainit \d+\.\d+\.\d+$/);
    },
  );

  it("stays drainit's own under drainit's and dumb-init's names", () => {
    for (const name of ["/drainit", "/usr/bin/dumb-init"]) {
      const invocation = invoke(["-V"], {}, name);
      expect(invocation.kind === "version" && invocation.text).toMatch(/^drainit \d+\.\d+\.\d+ \(/);
    }
  });
});

describe("the environment", () => {
  it("is read for exactly the options whose row names a variable", () => {
    for (const row of OPTION_ROWS) {
      if (row.env === null) continue;
      expect(row.env).toBe(`DRAINIT_${row.long.toUpperCase().replace(/-/g, "_")}`);
    }
    expect(OPTION_ROWS.filter((row) => row.env === null).map((row) => row.long)).toEqual([
      "sleep", "export-rootfs", "as", "version", "help", "license", "catatonit-license", "pause",
    ]);
  });

  it("is overridden by the command line, option by option", () => {
    const config = configOf(["--grace", "2s", "app"], { DRAINIT_GRACE: "9s", DRAINIT_DRAIN: "3s" });
    expect(config).toMatchObject({ graceMs: 2_000, drainMs: 3_000 });
  });

  it("reads DRAINIT_QUIET, and -v/-q on the command line replace both count variables", () => {
    expect(configOf(["app"], { DRAINIT_QUIET: "1" }).verbosity).toBe(LogLevel.warn);
    expect(configOf(["app"], { DRAINIT_QUIET: "1", DRAINIT_VERBOSE: "2" }).verbosity).toBe(LogLevel.debug);
    expect(configOf(["-v", "app"], { DRAINIT_QUIET: "2" }).verbosity).toBe(LogLevel.debug);
  });

  it("names the variable, not the flag, in an error that comes from it", () => {
    expect(errorOf(["app"], { DRAINIT_GRACE: "soon" })).toMatch(/^DRAINIT_GRACE: 'soon' is not a duration/);
    expect(errorOf(["app"], { DRAINIT_REWRITE: "TERM" })).toBe("DRAINIT_REWRITE takes FROM:TO, got 'TERM'");
    expect(errorOf(["app"], { DRAINIT_REWRITE: "TERM:NOPE" })).toBe("DRAINIT_REWRITE: unknown signal 'NOPE'");
    expect(errorOf(["app"], { DRAINIT_PDEATHSIG: "NOPE" })).toBe("DRAINIT_PDEATHSIG: unknown signal 'NOPE'");
    expect(errorOf(["app"], { DRAINIT_REMAP_EXIT: "300" })).toMatch(/^DRAINIT_REMAP_EXIT: '300' is not an exit code/);
    expect(errorOf(["app"], { DRAINIT_LOG_FORMAT: "xml" })).toBe("DRAINIT_LOG_FORMAT: 'xml' is not text or json");
    expect(errorOf(["app"], { DRAINIT_HEALTH: "x" })).toMatch(/^DRAINIT_HEALTH: 'x' is not ADDR:PORT/);
    expect(errorOf(["app"], { DRAINIT_HEALTH_UPSTREAM: "http://127.0.0.1:1/" })).toBe("DRAINIT_HEALTH_UPSTREAM needs --health");
    expect(errorOf(["app"], { DRAINIT_DRAIN_HOOK: "a | b" })).toMatch(/^DRAINIT_DRAIN_HOOK: '\|' needs a shell/);
    expect(errorOf(["app"], { DRAINIT_STOP_SIGNAL: "KILL" })).toMatch(/^DRAINIT_STOP_SIGNAL: drainit cannot listen to KILL/);
    expect(errorOf(["app"], { DRAINIT_VERBOSE: "lots" })).toBe("DRAINIT_VERBOSE: 'lots' is not a number");
    expect(errorOf(["app"], { DRAINIT_DRAIN_PORT: "80" })).toBe("DRAINIT_DRAIN_PORT needs --drain-until-idle");
  });

  it("warns about a variable of an option that reads none", () => {
    const invocation = invoke(["app"], { DRAINIT_SLEEP: "5", DRAINIT_EXPORT_ROOTFS: "/out" });
    expect(invocation.kind === "run" && invocation.warnings).toEqual([
      "DRAINIT_SLEEP is set but --sleep reads no variable; ignored",
      "DRAINIT_EXPORT_ROOTFS is set but --export-rootfs reads no variable; ignored",
    ]);
  });
});

describe("the maximum duration", () => {
  it("is 365 days", () => {
    expect(MAX_DURATION_MS).toBe(365 * 24 * 3600 * 1000);
    expect(parseDuration("365d", "--grace")).toBe(MAX_DURATION_MS);
    expect(parseDuration(String(365 * 24 * 3600), "--grace")).toBe(MAX_DURATION_MS);
    expect(parseDuration("30d", "--grace")).toBe(30 * 86_400_000);
  });

  it.each(["grace", "drain", "budget", "hook-timeout"])("is enforced for --%s, naming it", (option) => {
    expect(errorOf([`--${option}`, "400d", "app"])).toBe(`--${option}: '400d' is longer than the maximum, 365d`);
  });

  it("is enforced for the adaptive drain, --sleep and a year", () => {
    expect(errorOf(["--drain", "1s..366d", "--drain-until-idle", "1s", "app"])).toBe(
      "--drain: '366d' is longer than the maximum, 365d",
    );
    expect(errorOf(["--drain", "1s..2s", "--drain-until-idle", "1y", "app"])).toBe(
      "--drain-until-idle: '1y' is longer than the maximum, 365d",
    );
    expect(errorOf(["--sleep", "53w"])).toBe("--sleep: '53w' is longer than the maximum, 365d");
  });

  it("names the variable when the value came from one", () => {
    expect(errorOf(["app"], { DRAINIT_GRACE: "400d" })).toBe("DRAINIT_GRACE: '400d' is longer than the maximum, 365d");
  });
});

describe("--help, written from the table", () => {
  const help = helpText();

  it("has a line for every row, with its spellings and value name", () => {
    for (const row of OPTION_ROWS) {
      const names = [row.short ? `-${row.short}` : null, longSpelling(row)].filter(Boolean).join(", ");
      expect(help).toContain(`${names}${row.metavar ? ` ${row.metavar}` : ""}`);
      expect(help.replace(/\n\s+/g, " ")).toContain(row.help);
      if (row.default !== null) expect(help.replace(/\n\s+/g, " ")).toContain(`(default ${row.default})`);
    }
  });

  it("names every variable drainit reads, and the options that read none", () => {
    for (const row of OPTION_ROWS) if (row.env) expect(help).toMatch(new RegExp(`\\b${row.env}\\b`));
    expect(help).toContain("DRAINIT_QUIET");
    expect(help.replace(/\n/g, " ")).toContain("--sleep, --export-rootfs, --as, --version, --help read no variable");
    expect(help).not.toMatch(/Every long option/);
  });

  it("keeps to 80 columns", () => {
    for (const line of help.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
  });
});

describe("splitShellWords", () => {
  it.each([
    ["a  b\tc", ["a", "b", "c"]],
    [`'it''s' "x\\"y" a\\ b`, ["its", 'x"y', "a b"]],
    [`"a\\nb" 'c\\d'`, ["a\\nb", "c\\d"]],
    ["a\\\nb", ["ab"]],
    [`"${"$"}{HOME}/x" \`id\``, ["${HOME}/x", "`id`"]],
    ["notify # a comment", ["notify"]],
    ["a#b", ["a#b"]],
    [`""`, [""]],
  ])("splits %j into %j", (text, words) => {
    expect(splitShellWords(text, "--drain-hook")).toEqual(words);
  });

  it.each([["a && b", "&&"], ["a || b", "||"], ["a >> f", ">>"], ["a|b", "|"], ["a;b", ";"], ["echo $(id)", "("]])(
    "names the operator in %j",
    (text, operator) => {
      expect(() => splitShellWords(text, "--drain-hook")).toThrow(`--drain-hook: '${operator}' needs a shell`);
    },
  );

  it("refuses an unclosed quote", () => {
    expect(() => splitShellWords(`a "b`, "X")).toThrow("X: unclosed quote in 'a \"b'");
    expect(() => splitShellWords(`a 'b`, "X")).toThrow(/unclosed quote/);
    expect(() => splitShellWords(`a "b\\"`, "X")).toThrow(/unclosed quote/);
  });
});
