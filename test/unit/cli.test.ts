import { describe, expect, it } from "vitest";
import { parseCommandLine, parseDrainHook, personalityOf, type Environment } from "../../src/cli/cli.ts";

import { LogLevel, UsageError, type Config } from "../../src/config.ts";
import { SIGNALS } from "../../src/signals.ts";

const sig = (name: string): number => SIGNALS[name]!;

function invoke(args: string[], env: Environment = {}, invokedAs = "/usr/local/bin/drainit") {
  return parseCommandLine(args, env, invokedAs);
}

function configOf(args: string[], env: Environment = {}, invokedAs?: string): Config {
  const invocation = invoke(args, env, invokedAs);
  if (invocation.kind !== "run") throw new Error(`expected a run, got ${invocation.kind}`);
  return invocation.config;
}

function usageErrorOf(args: string[], env: Environment = {}, invokedAs?: string): string {
  try {
    invoke(args, env, invokedAs);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected a usage error");
}

describe("the command", () => {
  it("stops option parsing at the command: `drainit sh -c x`", () => {
    const config = configOf(["sh", "-c", "echo hi"]);
    expect(config.command).toEqual(["sh", "-c", "echo hi"]);
    expect(config.singleChild).toBe(false);
  });

  it("takes options before the command and leaves the command's own alone", () => {
    const config = configOf(["-c", "--drain", "5s", "nginx", "-g", "daemon off;", "--drain", "1s"]);
    expect(config.command).toEqual(["nginx", "-g", "daemon off;", "--drain", "1s"]);
    expect(config.singleChild).toBe(true);
    expect(config.drainMs).toBe(5_000);
  });

  it("accepts `--` before the command, with the same result", () => {
    expect(configOf(["-c", "--", "sh", "-c", "x"])).toEqual(configOf(["-c", "sh", "-c", "x"]));
  });

  it("runs a command that looks like an option after `--`", () => {
    expect(configOf(["--", "-weird", "arg"]).command).toEqual(["-weird", "arg"]);
  });

  it("keeps empty and spaced arguments verbatim", () => {
    expect(configOf(["printf", "%s|", "", "a b", "ünï"]).command).toEqual(["printf", "%s|", "", "a b", "ünï"]);
  });

  it("is an error when no command is given", () => {
    expect(usageErrorOf([])).toBe("no command given");
    expect(usageErrorOf(["-c", "--drain", "5s"])).toBe("no command given");
    expect(usageErrorOf(["--"])).toBe("no command given");
  });

  it("rejects an unknown option with one line", () => {
    expect(usageErrorOf(["--bogus", "sh"])).toMatch(/bogus/);
  });

  it("rejects an option that is missing its value", () => {
    usageErrorOf(["--drain"]);
  });
});

describe("--sleep", () => {
  it("sleeps for the duration instead of running a command", () => {
    expect(invoke(["--sleep", "5"])).toEqual({ kind: "sleep", ms: 5_000 });
    expect(invoke(["--sleep", "250ms"])).toEqual({ kind: "sleep", ms: 250 });
  });

  it("is not confused with a command named sleep", () => {
    const config = configOf(["sleep", "5"]);
    expect(config.command).toEqual(["sleep", "5"]);
  });

  it("takes no command", () => {
    expect(usageErrorOf(["--sleep", "5", "app"])).toBe("--sleep takes no command");
  });

  it("rejects a bad duration", () => {
    expect(usageErrorOf(["--sleep", "forever"])).toMatch(/^--sleep: 'forever' is not a duration/);
  });
});

describe("help and version", () => {
  it("answers -h and --help with the usage", () => {
    for (const flag of ["-h", "--help"]) {
      const invocation = invoke([flag]);
      expect(invocation.kind).toBe("help");
      if (invocation.kind === "help") expect(invocation.text).toMatch(/^Usage: drainit \[options\] \[--\] <command>/);
    }
  });

  it("answers -V and --version with the version", () => {
    for (const flag of ["-V", "--version"]) {
      const invocation = invoke([flag]);
      expect(invocation.kind).toBe("version");
      if (invocation.kind === "version") expect(invocation.text).toMatch(/^drainit \d+\.\d+\.\d+ /);
    }
  });
});

describe("process options", () => {
  it("reads -c/--single-child and -g/--group", () => {
    expect(configOf(["-c", "app"]).singleChild).toBe(true);
    expect(configOf(["--single-child", "app"]).singleChild).toBe(true);
    expect(configOf(["-g", "app"]).singleChild).toBe(false);
    expect(configOf(["app"]).singleChild).toBe(false);
  });

  it("rejects -c together with -g", () => {
    expect(usageErrorOf(["-c", "-g", "app"])).toBe("--single-child and --group contradict each other");
  });

  it("reads repeated --rewrite pairs", () => {
    const config = configOf(["-r", "TERM:QUIT", "--rewrite", "HUP:0", "app"]);
    expect(config.rewrites.get(sig("TERM"))).toBe(sig("QUIT"));
    expect(config.rewrites.get(sig("HUP"))).toBe(0);
  });

  it("turns terminal stop signals into STOP in group mode, as dumb-init does", () => {
    const group = configOf(["app"]);
    for (const name of ["TSTP", "TTIN", "TTOU"]) expect(group.rewrites.get(sig(name))).toBe(sig("STOP"));
    expect(configOf(["-c", "app"]).rewrites.size).toBe(0);
  });

  it("lets --rewrite override the terminal stop defaults", () => {
    expect(configOf(["-r", "TSTP:0", "app"]).rewrites.get(sig("TSTP"))).toBe(0);
  });

  it("rejects a bad --rewrite with exit-2 usage error", () => {
    expect(usageErrorOf(["-r", "TERM:NOPE", "app"])).toBe("unknown signal 'NOPE'");
    expect(usageErrorOf(["-r", "TERM", "app"])).toBe("--rewrite takes FROM:TO, got 'TERM'");
  });

  it("reads -s, -w and -p", () => {
    const config = configOf(["-s", "-w", "-p", "SIGKILL", "app"]);
    expect(config.subreaper).toBe(true);
    expect(config.warnOnReap).toBe(true);
    expect(config.pdeathsig).toBe(sig("KILL"));
  });

  it("defaults to no subreaper flag, no warnings, no parent-death signal", () => {
    const config = configOf(["app"]);
    expect(config.subreaper).toBe(false);
    expect(config.warnOnReap).toBe(false);
    expect(config.pdeathsig).toBeNull();
  });

  it("rejects a bad -p signal", () => {
    expect(usageErrorOf(["-p", "NOPE", "app"])).toBe("unknown signal 'NOPE'");
  });

  it("reads repeated -e codes", () => {
    expect([...configOf(["-e", "143", "--remap-exit", "1", "app"]).remapExit].sort()).toEqual([1, 143]);
  });

  it.each(["256", "x", "-1", "1.5"])("rejects the exit code %j", (code) => {
    expect(usageErrorOf(["-e", code, "app"])).toMatch(/--remap-exit: '.*' is not an exit code \(0-255\)/);
  });
});

describe("log options", () => {
  it.each([
    [[], LogLevel.info],
    [["-v"], LogLevel.debug],
    [["-vv"], LogLevel.trace],
    [["-v", "-v", "-v"], LogLevel.trace],
    [["-q"], LogLevel.warn],
    [["-qq"], LogLevel.error],
    [["-qqq"], LogLevel.error],
    [["-v", "-q"], LogLevel.info],
    [["--verbose"], LogLevel.debug],
    [["--quiet"], LogLevel.warn],
  ])("%j gives verbosity %i", (flags, level) => {
    expect(configOf([...flags, "app"]).verbosity).toBe(level);
  });

  it("reads --log-format text and json", () => {
    expect(configOf(["app"]).logFormat).toBe("text");
    expect(configOf(["--log-format", "json", "app"]).logFormat).toBe("json");
  });

  it("rejects another --log-format", () => {
    expect(usageErrorOf(["--log-format", "xml", "app"])).toBe("--log-format: 'xml' is not text or json");
  });
});

describe("drain options", () => {
  it("refuses a stop signal drainit cannot listen to", () => {
    expect(usageErrorOf(["--stop-signal", "KILL", "app"])).toMatch(/cannot listen to KILL/);
    expect(usageErrorOf(["--stop-signal", "STOP", "app"])).toMatch(/cannot listen to STOP/);
    expect(usageErrorOf(["--stop-signal", "32", "app"])).toMatch(/cannot listen to 32/);
  });

  it("takes PWR and real-time signals as stop signals (systemd-style images stop on RTMIN+3)", () => {
    expect([...configOf(["--stop-signal", "SIGRTMIN+3", "app"]).stopSignals]).toEqual([37]);
    expect([...configOf(["--stop-signal", "PWR", "app"]).stopSignals]).toEqual([30]);
  });

  it("defaults to TERM, no drain, no hook, a 30 s hook timeout and no grace or budget", () => {
    const config = configOf(["app"]);
    expect([...config.stopSignals]).toEqual([sig("TERM")]);
    expect(config.drainMs).toBe(0);
    expect(config.drainHook).toBeNull();
    expect(config.hookTimeoutMs).toBe(30_000);
    expect(config.graceMs).toBeNull();
    expect(config.budgetMs).toBeNull();
    expect(config.drainFile).toBeNull();
    expect(config.health).toBeNull();
  });

  it("reads every drain option", () => {
    const config = configOf([
      "--stop-signal", "INT", "--drain", "5s", "--drain-hook", "notify --now", "--hook-timeout", "2s",
      "--drain-file", "/tmp/draining", "--health", ":8086", "--health-upstream", "http://127.0.0.1:8080/health",
      "--grace", "10s", "--budget", "30", "app",
    ]);
    expect([...config.stopSignals]).toEqual([sig("INT")]);
    expect(config.drainMs).toBe(5_000);
    expect(config.drainHook).toEqual({ kind: "command", argv: ["notify", "--now"], text: "notify --now" });
    expect(config.hookTimeoutMs).toBe(2_000);
    expect(config.drainFile).toBe("/tmp/draining");
    expect(config.health).toEqual({ host: "0.0.0.0", port: 8086 });
    expect(config.healthUpstream).toBe("http://127.0.0.1:8080/health");
    expect(config.graceMs).toBe(10_000);
    expect(config.budgetMs).toBe(30_000);
  });

  it("reads several --stop-signal values", () => {
    expect([...configOf(["--stop-signal", "TERM", "--stop-signal", "SIGINT", "app"]).stopSignals]).toEqual([
      sig("TERM"),
      sig("INT"),
    ]);
  });

  it("lets a later single-valued option win", () => {
    expect(configOf(["--drain", "1s", "--drain", "2s", "app"]).drainMs).toBe(2_000);
  });

  it("rejects a bad stop signal", () => {
    expect(usageErrorOf(["--stop-signal", "STOPIT", "app"])).toBe("unknown signal 'STOPIT'");
  });

  it.each([
    ["--drain", "soon"],
    ["--drain", "5x"],
    ["--grace", "-1s"],
    ["--hook-timeout", "abc"],
    ["--budget", "-30"],
  ])("rejects %s %j", (option, value) => {
    usageErrorOf([option, value, "app"]);
  });

  it("names a bad duration's option and value", () => {
    expect(usageErrorOf(["--drain", "soon", "app"])).toMatch(/^--drain: 'soon' is not a duration/);
  });

  it("rejects --grace when the rewrite table drops the stop signal", () => {
    expect(usageErrorOf(["--grace", "5s", "-r", "TERM:0", "app"])).toBe(
      "--grace needs the stop signal forwarded, but --rewrite drops TERM",
    );
  });

  it("accepts --grace when the dropped signal is not a stop signal", () => {
    expect(configOf(["--grace", "5s", "-r", "HUP:0", "app"]).graceMs).toBe(5_000);
  });

  it("rejects --health-upstream without --health", () => {
    expect(usageErrorOf(["--health-upstream", "http://127.0.0.1:8080/", "app"])).toBe(
      "--health-upstream needs --health",
    );
  });

  it("rejects a bad --health address", () => {
    expect(usageErrorOf(["--health", "8086", "app"])).toBe("--health: '8086' is not ADDR:PORT (e.g. 0.0.0.0:8086)");
  });

  it("rejects a hook URL that does not parse", () => {
    expect(usageErrorOf(["--drain-hook", "http://", "app"])).toBe("--drain-hook: 'http://' is not a URL");
  });
});

describe("parseDrainHook", () => {
  it("refuses an unclosed quote, as a shell would", () => {
    expect(() => parseDrainHook("notify 'all of it")).toThrow(/unclosed quote/);
    expect(() => parseDrainHook('notify "all')).toThrow(/unclosed quote/);
    expect(parseDrainHook("notify \\'one")).toMatchObject({ argv: ["notify", "'one"] });
  });

  it("splits a command by shell word rules", () => {
    expect(parseDrainHook(`curl -X POST "http://127.0.0.1:8080/a b" 'single q'`)).toEqual({
      kind: "command",
      argv: ["curl", "-X", "POST", "http://127.0.0.1:8080/a b", "single q"],
      text: `curl -X POST "http://127.0.0.1:8080/a b" 'single q'`,
    });
  });

  it("handles escapes and adjacent quotes", () => {
    expect(parseDrainHook(`echo a\\ b "c"'d'`).kind === "command" && parseDrainHook(`echo a\\ b "c"'d'`)).toMatchObject({
      argv: ["echo", "a b", "cd"],
    });
  });

  it("keeps variables and globs as written: no shell expands them", () => {
    expect(parseDrainHook("notify $HOME/x *.txt")).toMatchObject({ argv: ["notify", "$HOME/x", "*.txt"] });
  });

  it("keeps an explicit sh -c script as one word", () => {
    expect(parseDrainHook(`sh -c 'sleep 1 && touch /tmp/x'`)).toMatchObject({
      argv: ["sh", "-c", "sleep 1 && touch /tmp/x"],
    });
  });

  it.each(["a && b", "a | b", "a; b", "a > f", "a < f", "a &", "(a)"])("rejects the shell operator in %j", (text) => {
    expect(() => parseDrainHook(text)).toThrow(/^--drain-hook: '.+' needs a shell; write it as: sh -c '\.\.\.'$/);
  });

  it("rejects an empty command", () => {
    expect(() => parseDrainHook("   ")).toThrow("--drain-hook: empty command");
  });

  it("reads http and https URLs as HTTP hooks", () => {
    expect(parseDrainHook("http://127.0.0.1:9901/drain_listeners?graceful")).toEqual({
      kind: "http",
      url: "http://127.0.0.1:9901/drain_listeners?graceful",
    });
    expect(parseDrainHook(" https://app.internal/drain ")).toEqual({ kind: "http", url: "https://app.internal/drain" });
  });

  it("rejects a URL of another scheme", () => {
    expect(() => parseDrainHook("ftp://host/drain")).toThrow("--drain-hook: 'ftp://host/drain' is not an http(s) URL");
  });
});

describe("environment", () => {
  it("reads DRAINIT_<NAME> for long options", () => {
    const config = configOf(["app"], {
      DRAINIT_DRAIN: "5s",
      DRAINIT_DRAIN_HOOK: "notify now",
      DRAINIT_GRACE: "3",
      DRAINIT_LOG_FORMAT: "json",
      DRAINIT_HEALTH: "127.0.0.1:8086",
    });
    expect(config.drainMs).toBe(5_000);
    expect(config.drainHook).toMatchObject({ argv: ["notify", "now"] });
    expect(config.graceMs).toBe(3_000);
    expect(config.logFormat).toBe("json");
    expect(config.health).toEqual({ host: "127.0.0.1", port: 8086 });
  });

  it("lets the command line win over the environment", () => {
    const config = configOf(["--drain", "1s", "--log-format", "text", "app"], {
      DRAINIT_DRAIN: "5s",
      DRAINIT_LOG_FORMAT: "json",
    });
    expect(config.drainMs).toBe(1_000);
    expect(config.logFormat).toBe("text");
  });

  it("reads repeatable options as comma-separated lists", () => {
    const config = configOf(["app"], {
      DRAINIT_STOP_SIGNAL: "TERM,INT",
      DRAINIT_REWRITE: "TERM:QUIT, HUP:0",
      DRAINIT_REMAP_EXIT: "143,1",
    });
    expect([...config.stopSignals]).toEqual([sig("TERM"), sig("INT")]);
    expect(config.rewrites.get(sig("TERM"))).toBe(sig("QUIT"));
    expect(config.rewrites.get(sig("HUP"))).toBe(0);
    expect([...config.remapExit]).toEqual([143, 1]);
  });

  it("replaces an environment list with the command line's, not merging them", () => {
    expect([...configOf(["--stop-signal", "QUIT", "app"], { DRAINIT_STOP_SIGNAL: "TERM,INT" }).stopSignals]).toEqual([
      sig("QUIT"),
    ]);
  });

  it("reads flags as true/false words", () => {
    expect(configOf(["app"], { DRAINIT_SINGLE_CHILD: "1" }).singleChild).toBe(true);
    expect(configOf(["app"], { DRAINIT_SINGLE_CHILD: "false" }).singleChild).toBe(false);
    expect(configOf(["app"], { DRAINIT_SUBREAPER: "yes", DRAINIT_WARN_ON_REAP: "on" })).toMatchObject({
      subreaper: true,
      warnOnReap: true,
    });
  });

  it("lets a command-line flag win over the environment's", () => {
    expect(configOf(["-g", "app"], { DRAINIT_SINGLE_CHILD: "1" }).singleChild).toBe(false);
    expect(configOf(["-c", "app"], { DRAINIT_GROUP: "1" }).singleChild).toBe(true);
    expect(configOf(["--subreaper", "app"], { DRAINIT_SUBREAPER: "0" }).subreaper).toBe(true);
  });

  it("rejects a flag value that is not true or false", () => {
    expect(usageErrorOf(["app"], { DRAINIT_SINGLE_CHILD: "maybe" })).toBe(
      "DRAINIT_SINGLE_CHILD: 'maybe' is not true or false",
    );
  });

  it("rejects bad values from the environment too, naming the variable", () => {
    expect(usageErrorOf(["app"], { DRAINIT_DRAIN: "soon" })).toMatch(/^DRAINIT_DRAIN: 'soon' is not a duration/);
    expect(usageErrorOf(["app"], { DRAINIT_STOP_SIGNAL: "TERM,NOPE" })).toBe("DRAINIT_STOP_SIGNAL: unknown signal 'NOPE'");
  });

  it("raises verbosity with DRAINIT_VERBOSE unless -v or -q is given", () => {
    expect(configOf(["app"], { DRAINIT_VERBOSE: "1" }).verbosity).toBe(LogLevel.debug);
    expect(configOf(["-q", "app"], { DRAINIT_VERBOSE: "2" }).verbosity).toBe(LogLevel.warn);
  });

  it("warns about a DRAINIT_* variable that names no option", () => {
    const invocation = invoke(["app"], { DRAINIT_DRAIN: "1s", DRAINIT_DRIAN: "5s", PATH: "/bin" });
    expect(invocation.kind === "run" && invocation.warnings).toEqual([
      "DRAINIT_DRIAN is set but drainit has no such option; ignored",
    ]);
  });

  it("gives no warnings for known variables", () => {
    const invocation = invoke(["app"], { DRAINIT_DRAIN: "1s", DRAINIT_VERBOSE: "1", DRAINIT_SINGLE_CHILD: "0" });
    expect(invocation.kind === "run" && invocation.warnings).toEqual([]);
  });
});

describe("compatibility personalities", () => {
  it("knows the link name it was invoked by", () => {
    expect(personalityOf("/usr/bin/dumb-init")).toBe("dumb-init");
    expect(personalityOf("tini")).toBe("tini");
    expect(personalityOf("/sbin/tini-static")).toBe("tini");
    expect(personalityOf("/drainit")).toBe("drainit");
    expect(personalityOf("/usr/bin/dumb-init-wrapper")).toBe("drainit");
  });

  describe("as dumb-init", () => {
    const asDumbInit = (args: string[], env: Environment = {}) => configOf(args, env, "/usr/bin/dumb-init");

    it("signals the process group by default", () => {
      expect(asDumbInit(["app"]).singleChild).toBe(false);
    });

    it("runs a single child with DUMB_INIT_SETSID=0", () => {
      expect(asDumbInit(["app"], { DUMB_INIT_SETSID: "0" }).singleChild).toBe(true);
      expect(asDumbInit(["app"], { DUMB_INIT_SETSID: "1" }).singleChild).toBe(false);
    });

    it("reads -c and -r as dumb-init does", () => {
      const config = asDumbInit(["-c", "-r", "15:3", "app"]);
      expect(config.singleChild).toBe(true);
      expect(config.rewrites.get(15)).toBe(3);
    });

    it("logs only warnings and errors by default", () => {
      expect(asDumbInit(["app"]).verbosity).toBe(LogLevel.warn);
      expect(asDumbInit(["-v", "app"]).verbosity).toBe(LogLevel.info);
    });

    it("ignores tini's variables", () => {
      expect(asDumbInit(["app"], { TINI_SUBREAPER: "1" }).subreaper).toBe(false);
    });
  });

  describe("as tini", () => {
    const asTini = (args: string[], env: Environment = {}) => configOf(args, env, "/sbin/tini");

    it("signals the child alone by default", () => {
      expect(asTini(["--", "app"]).singleChild).toBe(true);
    });

    it("signals the process group with -g", () => {
      expect(asTini(["-g", "--", "app"]).singleChild).toBe(false);
    });

    it("signals the process group with TINI_KILL_PROCESS_GROUP", () => {
      expect(asTini(["app"], { TINI_KILL_PROCESS_GROUP: "1" }).singleChild).toBe(false);
    });

    it("becomes a subreaper with TINI_SUBREAPER", () => {
      expect(asTini(["app"], { TINI_SUBREAPER: "1" }).subreaper).toBe(true);
      expect(asTini(["app"]).subreaper).toBe(false);
    });

    it("takes its verbosity from TINI_VERBOSITY", () => {
      expect(asTini(["app"]).verbosity).toBe(LogLevel.warn);
      expect(asTini(["app"], { TINI_VERBOSITY: "3" }).verbosity).toBe(LogLevel.debug);
      expect(asTini(["app"], { TINI_VERBOSITY: "0" }).verbosity).toBe(LogLevel.error);
    });

    it("reads tini's -s, -e, -p, -w flags", () => {
      const config = asTini(["-s", "-e", "143", "-p", "SIGTERM", "-w", "--", "app"]);
      expect(config).toMatchObject({ subreaper: true, pdeathsig: 15, warnOnReap: true });
      expect([...config.remapExit]).toEqual([143]);
    });

    it("accepts tini's -l (license) as a request for the version text", () => {
      expect(invoke(["-l"], {}, "tini").kind).toBe("version");
    });
  });

  it("ignores the peers' variables under its own name", () => {
    const config = configOf(["app"], { DUMB_INIT_SETSID: "0", TINI_SUBREAPER: "1", TINI_VERBOSITY: "4" });
    expect(config.singleChild).toBe(false);
    expect(config.subreaper).toBe(false);
    expect(config.verbosity).toBe(LogLevel.info);
  });
});
