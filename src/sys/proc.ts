// What /proc tells, read in one place for drainit and its tests: drainit's own arguments and
// environment as raw bytes (what is not valid UTF-8 still reaches the child unchanged), its open
// descriptors, and the process table (/proc/PID/stat).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

function splitNul(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) parts.push(bytes.subarray(start));
  return parts;
}

function readProcSelf(name: string): Uint8Array[] | null {
  try {
    return splitNul(readFileSync(`/proc/self/${name}`));
  } catch {
    return null;
  }
}

/** Every argument, argv[0] included, as raw bytes; null when /proc cannot tell. */
export function rawCommandLine(): Uint8Array[] | null {
  return readProcSelf("cmdline");
}

/** The last `count` arguments as raw bytes, or null when /proc cannot tell. */
export function rawTrailingArgs(count: number): Uint8Array[] | null {
  const all = readProcSelf("cmdline");
  if (!all || all.length < count) return null;
  return all.slice(all.length - count);
}

/** The environment drainit was started with, as raw `NAME=value` entries. */
export function rawEnvironment(): Uint8Array[] | null {
  return readProcSelf("environ");
}

/** A process as /proc/PID/stat tells it (the fields drainit and its tests look at). */
export interface ProcessStat {
  pid: number;
  /** R, S, D, T, Z, … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** The controlling terminal's device number; 0 without one. */
  ttyNr: number;
  /** The foreground process group of that terminal; -1 without one. */
  tpgid: number;
}

/** Parses the text of /proc/PID/stat; the command name may hold spaces and parentheses, so fields count from its last ")". */
export function parseStat(text: string): ProcessStat {
  const pid = Number(text.slice(0, text.indexOf(" ")));
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const number = (i: number) => Number(fields[i]);
  return { pid, state: fields[0] ?? "?", ppid: number(1), pgrp: number(2), session: number(3), ttyNr: number(4), tpgid: number(5) };
}

/** The process's /proc/PID/stat, or null once it is gone. */
export function readStat(pid: number): ProcessStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** The state letter of a process (R, S, T, Z, …), or null once it is gone. */
export function processState(pid: number): string | null {
  return readStat(pid)?.state ?? null;
}

/** One pass over /proc: every process that is there when its turn comes. */
export function allProcesses(): ProcessStat[] {
  const found: ProcessStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) found.push(stat);
  }
  return found;
}

/** One of drainit's open descriptors: its number and what /proc/self/fd says it is. */
export interface OpenDescriptor {
  fd: number;
  /** The link's target: a path, `pipe:[ino]`, `socket:[ino]`, `anon_inode:[eventpoll]`… */
  target: string;
}

/** Every descriptor open now (the one used to list them excepted); empty when /proc cannot tell. */
export function openDescriptors(): OpenDescriptor[] {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  const open: OpenDescriptor[] = [];
  for (const name of names) {
    try {
      open.push({ fd: Number(name), target: readlinkSync(`/proc/self/fd/${name}`) });
    } catch {
      // Closed since the listing: the directory's own descriptor.
    }
  }
  return open;
}

/** The descriptors an epoll instance watches (its `tfd:` lines in /proc/self/fdinfo). */
export function epollWatches(fd: number): number[] {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    return [...info.matchAll(/^tfd:\s+(\d+)/gm)].map((match) => Number(match[1]));
  } catch {
    return [];
  }
}
