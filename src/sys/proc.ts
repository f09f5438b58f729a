// drainit's own arguments and environment as the kernel holds them: raw bytes, so that
// what is not valid UTF-8 still reaches the child unchanged.
import { readFileSync } from "node:fs";

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
