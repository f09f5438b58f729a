import { describe, expect, it } from "vitest";
import {
  FORWARDED_SIGNALS,
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

  it("names real-time signals as kill -l does", () => {
    expect(signalName(34)).toBe("RTMIN");
    expect(signalName(37)).toBe("RTMIN+3");
    expect(signalName(49)).toBe("RTMIN+15");
    expect(signalName(50)).toBe("RTMAX-14");
    expect(signalName(63)).toBe("RTMAX-1");
    expect(signalName(64)).toBe("RTMAX");
  });

  it("gives every real-time signal a name parseSignal reads back", () => {
    for (let num = 34; num <= 64; num++) expect(parseSignal(`SIG${signalName(num)}`)).toBe(num);
  });
});

describe("real-time signal names", () => {
  it.each([
    ["RTMIN", 34],
    ["SIGRTMIN", 34],
    ["RTMIN+0", 34],
    ["SIGRTMIN+3", 37],
    ["rtmin+3", 37],
    ["RTMIN+30", 64],
    ["RTMAX", 64],
    ["SIGRTMAX-1", 63],
    ["RTMAX-14", 50],
    ["RTMAX-30", 34],
    ["IOT", 6],
    ["SIGPOLL", 29],
    ["CLD", 17],
  ])("reads %j as %i", (text, num) => {
    expect(parseSignal(text)).toBe(num);
  });

  it.each(["RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN3", "RTMID"])("rejects %j", (text) => {
    expect(() => parseSignal(text)).toThrow(SignalError);
  });
});

describe("FORWARDED_SIGNALS", () => {
  it("holds every signal 1-64 but KILL, STOP, CHLD and glibc's 32 and 33", () => {
    const expected = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => ![9, 17, 19, 32, 33].includes(n));
    expect([...FORWARDED_SIGNALS].sort((a, b) => a - b)).toEqual(expected);
  });

  it("includes what the runtime cannot listen to: PWR, STKFLT, real-time and kill-sent fault signals", () => {
    for (const name of ["PWR", "STKFLT", "SEGV", "ABRT", "BUS", "ILL", "FPE", "TRAP", "RTMIN+3", "RTMAX"]) {
      expect(FORWARDED_SIGNALS).toContain(parseSignal(name));
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
