import { describe, expect, it } from "vitest";
import {
  FORWARDED_SIGNALS,
  SIGNALS,
  SignalError,
  parseRewrites,
  parseSignal,
  rewriteSignal,
  signalName,
} from "../../src/signals.ts";

describe("parseSignal", () => {
  it.each([
    ["TERM", 15],
    ["SIGTERM", 15],
    ["sigterm", 15],
    ["term", 15],
    ["  HUP ", 1],
    ["USR1", 10],
    ["SIGWINCH", 28],
    ["SYS", 31],
  ])("reads the name %j as %i", (text, num) => {
    expect(parseSignal(text)).toBe(num);
  });

  it.each([
    ["15", 15],
    ["1", 1],
    ["9", 9],
    ["34", 34],
    ["64", 64],
  ])("reads the number %j as %i", (text, num) => {
    expect(parseSignal(text)).toBe(num);
  });

  it.each(["FOO", "SIGFOO", "SIG", "", "TERM2", "-15", "1.5", "TE RM"])("rejects %j", (text) => {
    expect(() => parseSignal(text)).toThrow(SignalError);
  });

  it("rejects numbers beyond the last real-time signal", () => {
    expect(() => parseSignal("65")).toThrow(/not a signal number: '65'/);
  });

  it("names the bad signal in its message", () => {
    expect(() => parseSignal("SIGBOGUS")).toThrow("unknown signal 'SIGBOGUS'");
  });

  it("accepts 0 only where it means 'drop'", () => {
    expect(() => parseSignal("0")).toThrow(SignalError);
    expect(parseSignal("0", { allowZero: true })).toBe(0);
  });
});

describe("signalName", () => {
  it("names known signals without the SIG prefix", () => {
    expect(signalName(15)).toBe("TERM");
    expect(signalName(17)).toBe("CHLD");
  });

  it("falls back to the number for real-time signals", () => {
    expect(signalName(40)).toBe("40");
  });
});

describe("FORWARDED_SIGNALS", () => {
  it("holds every signal the runtime can listen to", () => {
    const names = FORWARDED_SIGNALS.map(signalName).sort();
    expect(names).toEqual(
      [
        "HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM", "CONT", "TSTP", "TTIN",
        "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS", "TRAP",
      ].sort(),
    );
  });

  it("leaves out what cannot be caught or is handled, not forwarded", () => {
    for (const name of ["KILL", "STOP", "CHLD", "PWR", "SEGV"]) {
      expect(FORWARDED_SIGNALS).not.toContain(SIGNALS[name]);
    }
  });
});

describe("parseRewrites", () => {
  it("reads FROM:TO pairs by name or number", () => {
    const table = parseRewrites(["TERM:QUIT", "SIGINT:15", "10:SIGUSR2"]);
    expect([...table]).toEqual([
      [15, 3],
      [2, 15],
      [10, 12],
    ]);
  });

  it("reads TO=0 as 'drop'", () => {
    expect(parseRewrites(["HUP:0"]).get(1)).toBe(0);
  });

  it("lets a later pair for the same signal win", () => {
    expect(parseRewrites(["TERM:QUIT", "TERM:INT"]).get(15)).toBe(2);
  });

  it("does not accept 0 as the signal to rewrite", () => {
    expect(() => parseRewrites(["0:TERM"])).toThrow(SignalError);
  });

  it.each(["TERM", "TERM:", ":QUIT", "TERM:QUIT:HUP", "TERM-QUIT"])("rejects the malformed pair %j", (pair) => {
    expect(() => parseRewrites([pair])).toThrow(/--rewrite takes FROM:TO/);
  });

  it("rejects a bad signal name in a pair", () => {
    expect(() => parseRewrites(["TERM:NOPE"])).toThrow("unknown signal 'NOPE'");
  });
});

describe("rewriteSignal", () => {
  const table = parseRewrites(["TERM:QUIT", "HUP:0"]);

  it("rewrites a listed signal", () => {
    expect(rewriteSignal(table, 15)).toBe(3);
  });

  it("maps a dropped signal to 0", () => {
    expect(rewriteSignal(table, 1)).toBe(0);
  });

  it("passes an unlisted signal through", () => {
    expect(rewriteSignal(table, 10)).toBe(10);
  });
});
