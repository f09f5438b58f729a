// drainit --export-rootfs: the running executable, its ELF interpreter and the shared libraries
// it has loaded, copied into a directory at their own paths — a root an otherwise empty image
// (scratch, distroless/static, Alpine) can take with one COPY.
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { interpreterOf } from "./elf.ts";
import { describeError } from "../log.ts";

export class RootfsError extends Error {}

export interface RootfsFile {
  /** The file on this system. */
  source: string;
  /** Its absolute path inside the exported root. */
  target: string;
}

export interface RootfsInputs {
  /** The text of /proc/self/maps. */
  maps: string;
  /** Where the running executable can be read (/proc/self/exe). */
  executable: string;
  /** Its resolved path, to tell it apart from the libraries in the maps. */
  executableRealPath: string;
  /** The PT_INTERP path of the executable, null when it is statically linked. */
  interpreter: string | null;
  /** The interpreter's resolved path: the loader appears under that name in the maps. */
  interpreterRealPath: string | null;
  /** drainit's own path inside the root. */
  as: string;
}

const SHARED_LIBRARY_NAME = /\.so(\.\d+)*$/;
const DELETED_SUFFIX = " (deleted)";

/** The files mapped into the process that are shared libraries, in map order, each once. */
export function mappedSharedLibraries(maps: string): string[] {
  const seen = new Set<string>();
  for (const line of maps.split("\n")) {
    // address perms offset dev inode [path]; the path may contain spaces.
    const match = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!match) continue;
    const path = match[1]!;
    const name = path.endsWith(DELETED_SUFFIX) ? path.slice(0, -DELETED_SUFFIX.length) : path;
    if (!SHARED_LIBRARY_NAME.test(name.slice(name.lastIndexOf("/") + 1))) continue;
    if (path.endsWith(DELETED_SUFFIX)) {
      throw new RootfsError(`${name} was replaced or deleted after drainit loaded it; run the export again`);
    }
    seen.add(path);
  }
  return [...seen];
}

/**
 * What goes into the root: the executable at `as`, the interpreter at the path the kernel will
 * look for (PT_INTERP, which may be a symlink on this system), every other loaded library at its
 * own path. Nothing else: no shell, no /etc.
 */
export function planRootfs(inputs: RootfsInputs): RootfsFile[] {
  const files: RootfsFile[] = [{ source: inputs.executable, target: inputs.as }];
  if (inputs.interpreter !== null) files.push({ source: inputs.interpreter, target: inputs.interpreter });
  for (const library of mappedSharedLibraries(inputs.maps)) {
    if (library === inputs.executableRealPath || library === inputs.interpreterRealPath) continue;
    if (library === inputs.interpreter) continue;
    files.push({ source: library, target: library });
  }
  return files;
}

function readInterpreter(executable: string): string | null {
  const fd = openSync(executable, "r");
  try {
    return interpreterOf((offset, length) => {
      const buffer = new Uint8Array(length);
      const read = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, read);
    });
  } finally {
    closeSync(fd);
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOENT") return "no such file or directory";
  if (code === "ENOSPC") return "no space left on device";
  if (code === "EROFS") return "read-only file system";
  if (code === "ENOTDIR") return "a parent is not a directory";
  if (code) return code;
  return describeError(error);
}

/** Copies via a temporary name and a rename: an existing file or symlink is replaced, never written through. */
function copyInto(dir: string, file: RootfsFile): void {
  const destination = join(dir, file.target);
  try {
    mkdirSync(dirname(destination), { recursive: true });
  } catch (error) {
    throw new RootfsError(`cannot create ${dirname(destination)}: ${reason(error)}`);
  }
  const partial = `${destination}.${process.pid}.partial`;
  try {
    copyFileSync(file.source, partial);
    chmodSync(partial, statSync(file.source).mode & 0o7777);
    renameSync(partial, destination);
  } catch (error) {
    throw new RootfsError(`cannot copy ${file.source} to ${destination}: ${reason(error)}`);
  }
}

/** Exports the running drainit into `dir`; returns the paths written, as seen inside the root. */
export function exportRootfs(dir: string, as: string): string[] {
  let inputs: RootfsInputs;
  try {
    const executable = "/proc/self/exe";
    const interpreter = readInterpreter(executable);
    inputs = {
      maps: readFileSync("/proc/self/maps", "utf8"),
      executable,
      executableRealPath: realpathSync(executable),
      interpreter,
      interpreterRealPath: interpreter === null ? null : realpathSync(interpreter),
      as,
    };
  } catch (error) {
    if (error instanceof RootfsError) throw error;
    throw new RootfsError(`cannot inspect the running executable: ${reason(error)}`);
  }
  const files = planRootfs(inputs);
  for (const file of files) copyInto(dir, file);
  return files.map((file) => file.target);
}
