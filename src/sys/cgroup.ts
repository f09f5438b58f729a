// drainit's memory cgroup, to tell when the kernel's out-of-memory killer ended the child: the
// count of OOM kills (cgroup v2 memory.events, v1 memory.oom_control) read at start and again when
// the child dies of a SIGKILL drainit did not send. Parsing is pure; reading is at the bottom.
import { readFileSync } from "node:fs";

type CgroupVersion = 1 | 2;

export interface MemoryCgroup {
  version: CgroupVersion;
  /** The cgroup's directory. */
  dir: string;
  /** Where the hierarchy is mounted: the limit may be set on any directory from dir up to it. */
  mountPoint: string;
}

interface MemoryLimit {
  /** The file it is read from: memory.max (v2) or memory.limit_in_bytes (v1). */
  file: string;
  bytes: number;
}

/** The file that counts OOM kills, and the one with the limit, per version. */
const FILES = {
  1: { events: "memory.oom_control", limit: "memory.limit_in_bytes" },
  2: { events: "memory.events", limit: "memory.max" },
} as const;

/** v1 has no "max": an unlimited group shows the page counter's maximum, about 2^63. */
const UNLIMITED_FROM = 2 ** 60;

interface ProcCgroupLines {
  /** The v2 line `0::PATH`. */
  unified: string | null;
  /** The v1 line of the memory controller. */
  memory: string | null;
}

/** /proc/self/cgroup: `ID:CONTROLLERS:PATH` per hierarchy. */
function parseProcCgroup(text: string): ProcCgroupLines {
  const lines: ProcCgroupLines = { unified: null, memory: null };
  for (const line of text.split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllers, path] = match;
    if (id === "0" && controllers === "") lines.unified = path!;
    else if (controllers!.split(",").includes("memory")) lines.memory = path!;
  }
  return lines;
}

interface CgroupMount {
  /** The directory of the hierarchy that is mounted (not `/` inside a cgroup namespace, sometimes). */
  root: string;
  mountPoint: string;
  version: CgroupVersion;
  /** v1: the controllers the hierarchy has. */
  controllers: string[];
}

/** Octal escapes of /proc/self/mountinfo (`\040` for a space). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The cgroup mounts of /proc/self/mountinfo. */
function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const [before, after] = line.split(" - ");
    if (!before || !after) continue;
    const fields = before.split(" ");
    const [fstype, , superOptions = ""] = after.split(" ");
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    mounts.push({
      root: unescapeMountPath(fields[3] ?? "/"),
      mountPoint: unescapeMountPath(fields[4] ?? ""),
      version: fstype === "cgroup2" ? 2 : 1,
      controllers: fstype === "cgroup" ? superOptions.split(",") : [],
    });
  }
  return mounts;
}

/** The directory of `path` under a mount of `root`, or null when the path is outside the mount. */
function dirUnder(mount: CgroupMount, path: string): string | null {
  const root = mount.root.replace(/\/+$/, "");
  let relative: string;
  if (root === "") relative = path;
  else if (path === root || path.startsWith(`${root}/`)) relative = path.slice(root.length);
  else return null;
  return `${mount.mountPoint.replace(/\/+$/, "")}${relative === "/" ? "" : relative}` || "/";
}

/**
 * The memory cgroup drainit (and so the child) is in: the v1 memory hierarchy when there is one
 * (a hybrid system keeps the memory controller there), else the unified one.
 */
export function findMemoryCgroup(procCgroup: string, mountinfo: string): MemoryCgroup | null {
  const lines = parseProcCgroup(procCgroup);
  const mounts = parseCgroupMounts(mountinfo);
  const candidates: Array<[CgroupMount | undefined, string | null]> = [
    [mounts.find((m) => m.version === 1 && m.controllers.includes("memory")), lines.memory],
    [mounts.find((m) => m.version === 2), lines.unified],
  ];
  for (const [mount, path] of candidates) {
    if (!mount || path === null) continue;
    const dir = dirUnder(mount, path);
    if (dir) return { version: mount.version, dir, mountPoint: mount.mountPoint };
  }
  return null;
}

/** `oom_kill N` of memory.events (v2) or memory.oom_control (v1); null when absent. */
export function parseOomKills(text: string): number | null {
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** The bytes of memory.max / memory.limit_in_bytes; null when unlimited or unreadable. */
export function parseMemoryLimit(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const bytes = Number(trimmed);
  return bytes >= UNLIMITED_FROM ? null : bytes;
}

/** `256 MiB`, `1.5 GiB`, `512 KiB`, `100 B`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${units[unit]}`;
}

/** The one line logged when the OOM killer ended the child. */
export function oomKillMessage(limit: MemoryLimit | null): string {
  const where = limit ? `${limit.file} ${formatBytes(limit.bytes)}` : "no memory limit on drainit's cgroup";
  return `child killed by the out-of-memory killer (${where})`;
}

/**
 * The directories from the cgroup up to its mount point, nearest first. Inside a container the
 * cgroup is often the mount point itself (the container's own group is the root it sees).
 */
export function cgroupAncestry(cgroup: MemoryCgroup): string[] {
  const top = cgroup.mountPoint.replace(/\/+$/, "") || "/";
  const dirs = [cgroup.dir];
  for (let dir = cgroup.dir; dir.startsWith(`${top}/`); ) {
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    dirs.push(dir);
  }
  return dirs;
}

// --- reading the files ------------------------------------------------------------

type ReadText = (path: string) => string | null;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

/** The OOM kill count of drainit's memory cgroup, remembered at start, and compared later. */
export class OomKillWatch {
  private readonly before: number | null;

  private constructor(
    private readonly cgroup: MemoryCgroup,
    private readonly read: ReadText,
  ) {
    this.before = this.count();
  }

  /** Null when drainit's memory cgroup cannot be found or its count cannot be read. */
  static start(read: ReadText = readText): OomKillWatch | null {
    const procCgroup = read("/proc/self/cgroup");
    const mountinfo = read("/proc/self/mountinfo");
    if (procCgroup === null || mountinfo === null) return null;
    const cgroup = findMemoryCgroup(procCgroup, mountinfo);
    if (!cgroup) return null;
    const watch = new OomKillWatch(cgroup, read);
    return watch.before === null ? null : watch;
  }

  private count(): number | null {
    const text = this.read(`${this.cgroup.dir}/${FILES[this.cgroup.version].events}`);
    return text === null ? null : parseOomKills(text);
  }

  /** Whether the OOM killer killed something in drainit's cgroup since start. */
  killedSinceStart(): boolean {
    const now = this.count();
    return now !== null && this.before !== null && now > this.before;
  }

  /** The lowest limit set on the cgroup or above it (the one that applies). */
  limit(): MemoryLimit | null {
    const file = FILES[this.cgroup.version].limit;
    let lowest: MemoryLimit | null = null;
    for (const dir of cgroupAncestry(this.cgroup)) {
      const text = this.read(`${dir}/${file}`);
      const bytes = text === null ? null : parseMemoryLimit(text);
      if (bytes !== null && (lowest === null || bytes < lowest.bytes)) lowest = { file, bytes };
    }
    return lowest;
  }
}
