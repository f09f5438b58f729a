// drainit's own arguments and environment as the kernel holds them: raw bytes, so that
// what is not valid UTF-8 still reaches the child unchanged.
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
