// The Kernel, implemented with libc through bun:ffi. The only file that knows about pointers.
import { dlopen, FFIType, ptr, read, CString, type Pointer } from "bun:ffi";
import type { Kernel, Reaped, SpawnRequest, SpawnResult } from "./kernel.ts";

const { i32, u64, ptr: pointer } = FFIType;

const libc = dlopen("libc.so.6", {
  posix_spawnp: { args: [pointer, pointer, pointer, pointer, pointer, pointer], returns: i32 },
  posix_spawnattr_init: { args: [pointer], returns: i32 },
  posix_spawnattr_destroy: { args: [pointer], returns: i32 },
  posix_spawnattr_setflags: { args: [pointer, FFIType.i16], returns: i32 },
  posix_spawnattr_setsigmask: { args: [pointer, pointer], returns: i32 },
  posix_spawnattr_setsigdefault: { args: [pointer, pointer], returns: i32 },
  posix_spawnattr_setpgroup: { args: [pointer, i32], returns: i32 },
  posix_spawn_file_actions_init: { args: [pointer], returns: i32 },
  posix_spawn_file_actions_destroy: { args: [pointer], returns: i32 },
  posix_spawn_file_actions_addchdir_np: { args: [pointer, pointer], returns: i32 },
  waitpid: { args: [i32, pointer, i32], returns: i32 },
  kill: { args: [i32, i32], returns: i32 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  getpid: { args: [], returns: i32 },
  strerror: { args: [i32], returns: FFIType.cstring },
  __errno_location: { args: [], returns: pointer },
}).symbols;

// glibc <spawn.h>, <sys/wait.h>, <sys/prctl.h>, <errno.h>
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const WNOHANG = 1;
const PR_SET_PDEATHSIG = 1;
const PR_SET_CHILD_SUBREAPER = 36;
const ECHILD = 10;
const EINTR = 4;
const ENOENT = 2;
const ESRCH = 3;

// Larger than glibc's posix_spawnattr_t (336 bytes), posix_spawn_file_actions_t (80) and sigset_t (128).
const SPAWNATTR_BYTES = 512;
const FILE_ACTIONS_BYTES = 256;
const SIGSET_BYTES = 128;

/**
 * Every signal 1-64, bits set by hand: glibc's sigfillset leaves out 32 and 33,
 * and posix_spawn would then leave those ignored in the child.
 */
const ALL_SIGNALS = new Uint8Array(SIGSET_BYTES).fill(0xff, 0, 8);
const NO_SIGNALS = new Uint8Array(SIGSET_BYTES);

const encoder = new TextEncoder();

function cString(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A NULL-terminated char* array; `keep` holds the strings it points into. */
function cStringArray(values: ReadonlyArray<string | Uint8Array>, keep: Uint8Array[]): BigUint64Array {
  const array = new BigUint64Array(values.length + 1);
  values.forEach((value, i) => {
    const bytes = cString(value);
    keep.push(bytes);
    array[i] = BigInt(ptr(bytes));
  });
  return array;
}

function errno(): number {
  return read.i32(libc.__errno_location() as Pointer, 0);
}

function describeErrno(code: number): string {
  return String(libc.strerror(code) as unknown as CString);
}

/** Exit status bits as <sys/wait.h> lays them out. */
function decodeWaitStatus(status: number): Reaped["status"] {
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff } : { signal };
}

export class LibcKernel implements Kernel {
  private readonly statusSlot = new Int32Array(1);

  spawn(request: SpawnRequest): SpawnResult {
    const attr = new Uint8Array(SPAWNATTR_BYTES);
    const keep: Uint8Array[] = [];
    const argv = cStringArray(request.argv, keep);
    const env = request.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ""}`);
    const envp = cStringArray(env, keep);
    const file = cString(request.argv[0] ?? "");
    const pidOut = new Int32Array(1);
    const actions = request.cwd === undefined ? null : new Uint8Array(FILE_ACTIONS_BYTES);

    let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    flags |= request.isolation === "session" ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
    libc.posix_spawnattr_init(attr);
    if (actions) {
      libc.posix_spawn_file_actions_init(actions);
      const dir = cString(request.cwd!);
      keep.push(dir);
      libc.posix_spawn_file_actions_addchdir_np(actions, dir);
    }
    try {
      libc.posix_spawnattr_setflags(attr, flags);
      libc.posix_spawnattr_setsigdefault(attr, ALL_SIGNALS);
      libc.posix_spawnattr_setsigmask(attr, NO_SIGNALS);
      libc.posix_spawnattr_setpgroup(attr, 0);
      const rc = libc.posix_spawnp(pidOut, file, actions, attr, argv, envp);
      if (rc !== 0) return { errno: rc, reason: describeErrno(rc), notFound: rc === ENOENT };
      return { pid: pidOut[0]! };
    } finally {
      libc.posix_spawnattr_destroy(attr);
      if (actions) libc.posix_spawn_file_actions_destroy(actions);
      // Every buffer the pointer arrays point into must outlive the call above.
      keep.length = 0;
    }
  }

  reapOne(): Reaped | "none-ready" | "no-children" {
    for (;;) {
      const pid = libc.waitpid(-1, this.statusSlot, WNOHANG);
      if (pid > 0) return { pid, status: decodeWaitStatus(this.statusSlot[0]!) };
      if (pid === 0) return "none-ready";
      const code = errno();
      if (code === EINTR) continue;
      if (code === ECHILD) return "no-children";
      throw new Error(`waitpid failed: ${describeErrno(code)}`);
    }
  }

  kill(pid: number, signal: number): boolean {
    if (libc.kill(pid, signal) === 0) return true;
    const code = errno();
    if (code === ESRCH) return false;
    throw new Error(`kill(${pid}, ${signal}) failed: ${describeErrno(code)}`);
  }

  becomeSubreaper(): void {
    if (libc.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) {
      throw new Error(`cannot become a child subreaper: ${describeErrno(errno())}`);
    }
  }

  setParentDeathSignal(signal: number): void {
    if (libc.prctl(PR_SET_PDEATHSIG, BigInt(signal), 0n, 0n, 0n) !== 0) {
      throw new Error(`cannot set the parent-death signal: ${describeErrno(errno())}`);
    }
  }

  pid(): number {
    return libc.getpid();
  }
}
