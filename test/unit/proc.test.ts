// The one reader of /proc/PID/stat, shared by drainit and its tests.
import { describe, expect, it } from "vitest";
import { allProcesses, parseStat, processState, readStat } from "../../src/sys/proc.ts";

describe("parseStat", () => {
  it("counts fields from the last parenthesis, whatever the command name holds", () => {
    const text = "4242 (a b) (c)) S 1 4242 4200 34816 4242 4194560 120 0 0 0 1 2 0 0 20 0 1 0 99 1000 50\n";
    expect(parseStat(text)).toEqual({ pid: 4242, state: "S", ppid: 1, pgrp: 4242, session: 4200, ttyNr: 34816, tpgid: 4242 });
  });
});

describe("reading /proc", () => {
  it("reads this process: its pid, its parent, a running or sleeping state", () => {
    expect(readStat(process.pid)).toMatchObject({ pid: process.pid, ppid: process.ppid });
    expect(processState(process.pid)).toMatch(/^[RS]$/);
  });

  it("says null for a process that is not there", () => {
    expect(readStat(2 ** 22 + 1)).toBeNull();
    expect(processState(2 ** 22 + 1)).toBeNull();
  });

  it("lists this process among all of them", () => {
    expect(allProcesses().some((p) => p.pid === process.pid && p.ppid === process.ppid)).toBe(true);
  });
});
