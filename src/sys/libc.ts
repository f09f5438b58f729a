// The Kernel, implemented with libc through bun:ffi. The only file that knows about pointers.
import { dlopen, FFIType, ptr, read, CString, type Pointer } from "bun:ffi";
import { accessSync, closeSync, constants as fsConstants, fstatSync, readlinkSync, statSync, writeSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Kernel, Reaped, SpawnRequest, SpawnResult, TerminalInfo } from "./kernel.ts";

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
  posix_spawn_file_actions_addopen: { args: [pointer, i32, pointer, i32, FFIType.u32], returns: i32 },
  posix_spawn_file_actions_adddup2: { args: [pointer, i32, i32], returns: i32 },
  isatty: { args: [i32], returns: i32 },
  tcgetsid: { args: [i32], returns: i32 },
  tcgetpgrp: { args: [i32], returns: i32 },
  tcsetpgrp: { args: [i32, i32], returns: i32 },
  getpgrp: { args: [], returns: i32 },
  ioctl: { args: [i32, u64, u64], returns: i32 },
  waitpid: { args: [i32, pointer, i32], returns: i32 },
  kill: { args: [i32, i32], returns: i32 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  getpid: { args: [], returns: i32 },
  socket: { args: [i32, i32, i32], returns: i32 },
  sendto: { args: [i32, pointer, u64, i32, pointer, u64], returns: i32 },
  recv: { args: [i32, pointer, u64, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  execve: { args: [pointer, pointer, pointer], returns: i32 },
  pipe2: { args: [pointer, i32], returns: i32 },
  read: { args: [i32, pointer, u64], returns: i32 },
  sigprocmask: { args: [i32, pointer, pointer], returns: i32 },
  memfd_create: { args: [pointer, FFIType.u32], returns: i32 },
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
const PR_SET_NAME = 15;
/** The kernel keeps 15 bytes of a process name. */
const PROCESS_NAME_BYTES = 15;
const PR_SET_CHILD_SUBREAPER = 36;
const ECHILD = 10;
const EINTR = 4;
const ENOENT = 2;
const ESRCH = 3;
const EINVAL = 22;
// <signal.h>, <linux/memfd.h>
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
const MFD_CLOEXEC = 1;
/** Kernels since 6.3 take it to mean "executable" (and refuse it where sysctl vm.memfd_noexec forbids). */
const MFD_EXEC = 0x10;
/** Room for about 87,000 signal records before one has to wait for the event loop (16 pages if unused). */
const SIGNAL_PIPE_BYTES = 1 << 20;
const ENOEXEC = 8;
// <fcntl.h>, <asm-generic/ioctls.h>
const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
const FD_CLOEXEC = 1;
const TIOCNOTTY = 0x5422n;
const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_SOCK_DIAG = 4;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const NLMSG_DONE = 3;
const NLMSG_ERROR = 2;
/** A dump comes back in datagrams of at most a page or so; this leaves room. */
const NETLINK_RECEIVE_BYTES = 65536;
/** Past this many datagrams a dump is not going to end well: give up rather than spin. */
const NETLINK_MAX_DATAGRAMS = 4096;

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
const decoder = new TextDecoder();

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

/** Whether a netlink datagram holds the message that ends a dump (done or error). */
function endsDump(datagram: Uint8Array): boolean {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  for (let offset = 0; offset + 16 <= datagram.length; ) {
    const length = view.getUint32(offset, true);
    const type = view.getUint16(offset + 4, true);
    if (type === NLMSG_DONE || type === NLMSG_ERROR) return true;
    if (length < 16) return true;
    offset += (length + 3) & ~3;
  }
  return false;
}

/** The path of the terminal on `fd`, if opening that path gives the same device (it may live in another mount namespace). */
function terminalPath(fd: number): string | null {
  try {
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    return statSync(path).rdev === fstatSync(fd).rdev ? path : null;
  } catch {
    return null;
  }
}

/**
 * The runtime switches the pipes behind stdout and stderr to non-blocking for its own writes.
 * The flag belongs to the pipe, not to drainit's descriptor, so every child would inherit it
 * and fail with EAGAIN when its reader is slow: give the pipes back as drainit got them.
 */
function restoreBlockingStdio(): void {
  for (const fd of [0, 1, 2]) {
    const flags = libc.fcntl(fd, F_GETFL, 0);
    if (flags >= 0 && flags & O_NONBLOCK) libc.fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
}

/**
 * Replaces this process with a new run of its own executable, same arguments, given environment
 * (raw entries). Returns only if the exec failed, with the reason.
 */
export function execSelf(argv: ReadonlyArray<Uint8Array>, env: ReadonlyArray<string | Uint8Array>): string {
  const keep: Uint8Array[] = [];
  const path = cString("/proc/self/exe");
  libc.execve(path, cStringArray(argv, keep), cStringArray(env, keep));
  return describeErrno(errno());
}

/** Sets the name ps and /proc/PID/comm show for this process. */
export function setProcessName(name: string): void {
  const bytes = cString(encoder.encode(name).subarray(0, PROCESS_NAME_BYTES));
  libc.prctl(PR_SET_NAME, BigInt(ptr(bytes)), 0n, 0n, 0n);
}

/**
 * Blocks every signal in the calling thread. The mask survives execve: a signal sent while
 * drainit starts itself again waits, pending, until unblockAllSignals.
 */
export function blockAllSignals(): void {
  libc.sigprocmask(SIG_BLOCK, ALL_SIGNALS, null);
}

export function unblockAllSignals(): void {
  libc.sigprocmask(SIG_SETMASK, NO_SIGNALS, null);
}

/** What the installed signal handler gives the event loop. */
export interface SignalPipe {
  /** Non-blocking read end of the pipe the handler writes one record per signal to. */
  readFd: number;
  /** Standard signals whose record met a full pipe since the last call (bit n-1 for signal n). */
  takeOverflowed(): number;
}

/** A descriptor for `bytes`, in memory only (no file system needs to be writable or executable). */
function memoryFile(name: string, bytes: Uint8Array): number {
  const cName = cString(name);
  let fd = libc.memfd_create(cName, MFD_CLOEXEC | MFD_EXEC);
  // Kernels before 6.3 know no MFD_EXEC: there every memory file may be mapped executable.
  if (fd < 0 && errno() === EINVAL) fd = libc.memfd_create(cName, MFD_CLOEXEC);
  if (fd < 0) throw new Error(`memfd_create: ${describeErrno(errno())}`);
  try {
    writeSync(fd, bytes);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Loads the signal handler (src/sys/signal-handler.c, built as a shared object) from `object`,
 * gives it a new pipe and installs it for every signal it takes. Throws with the reason when
 * any step fails; nothing is installed then.
 */
export function installSignalHandler(object: Uint8Array): SignalPipe {
  const fd = memoryFile("drainit-signal-handler", object);
  let handler;
  try {
    handler = dlopen(`/proc/self/fd/${fd}`, {
      drainit_install_signal_handler: { args: [i32], returns: i32 },
      drainit_take_overflowed: { args: [], returns: FFIType.u32 },
    }).symbols;
  } finally {
    // The mapping keeps the code; the descriptor is not needed once it is loaded.
    closeSync(fd);
  }
  const ends = new Int32Array(2);
  if (libc.pipe2(ends, O_NONBLOCK | O_CLOEXEC) !== 0) throw new Error(`pipe2: ${describeErrno(errno())}`);
  const [readFd, writeFd] = [ends[0]!, ends[1]!];
  // A bigger pipe only costs memory while a storm fills it; failing to get one is no reason to stop.
  libc.fcntl(writeFd, F_SETPIPE_SZ, SIGNAL_PIPE_BYTES);
  const installed = handler.drainit_install_signal_handler(writeFd);
  if (installed <= 0) {
    libc.close(readFd);
    libc.close(writeFd);
    throw new Error("sigaction refused every signal");
  }
  return { readFd, takeOverflowed: () => handler.drainit_take_overflowed() as number };
}

/** Reads what `fd` (non-blocking) holds now into `buffer`: the byte count, 0 when it is empty. */
export function readAvailable(fd: number, buffer: Uint8Array): number {
  for (;;) {
    const count = libc.read(fd, buffer, buffer.length);
    if (count >= 0) return count;
    const code = errno();
    if (code === EINTR) continue;
    if (code === EAGAIN) return 0;
    throw new Error(`read: ${describeErrno(code)}`);
  }
}

/** Marks a descriptor close-on-exec, or clears the mark so that an exec keeps it open. */
export function setCloseOnExec(fd: number, closeOnExec: boolean): void {
  libc.fcntl(fd, F_SETFD, closeOnExec ? FD_CLOEXEC : 0);
}

/** The shell execvp runs a file with when the kernel does not know its format. */
const SHELL = "/bin/sh";
/** What posix_spawnp searches when PATH is unset (glibc's confstr(_CS_PATH)). */
const DEFAULT_PATH = "/bin:/usr/bin";

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The file posix_spawnp ran for `name`: `name` itself when it holds a slash, else the first
 * executable file of that name along PATH (drainit's own PATH, as posix_spawnp uses). Relative
 * paths are looked at from `cwd`, where the new process runs, and returned as they are.
 */
function resolveCommand(name: string, cwd: string): string | null {
  const at = (path: string) => (isAbsolute(path) ? path : join(cwd, path));
  if (name.includes("/")) return isExecutableFile(at(name)) ? name : null;
  for (const dir of (process.env.PATH ?? DEFAULT_PATH).split(":")) {
    const path = dir === "" ? name : `${dir}/${name}`;
    if (isExecutableFile(at(path))) return path;
  }
  return null;
}

export class LibcKernel implements Kernel {
  private readonly statusSlot = new Int32Array(1);

  spawn(request: SpawnRequest): SpawnResult {
    restoreBlockingStdio();
    const attr = new Uint8Array(SPAWNATTR_BYTES);
    const keep: Uint8Array[] = [];
    const argv = cStringArray(request.argv, keep);
    const env = request.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ""}`);
    const envp = cStringArray(env, keep);
    const file = cString(request.argv[0] ?? "");
    const pidOut = new Int32Array(1);
    const handedDown = request.fds ?? [];
    const needsActions = request.cwd !== undefined || request.terminal !== undefined || handedDown.length > 0;
    const actions = needsActions ? new Uint8Array(FILE_ACTIONS_BYTES) : null;

    let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    flags |= request.isolation === "session" ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
    libc.posix_spawnattr_init(attr);
    if (actions) {
      libc.posix_spawn_file_actions_init(actions);
      if (request.cwd !== undefined) {
        const dir = cString(request.cwd);
        keep.push(dir);
        libc.posix_spawn_file_actions_addchdir_np(actions, dir);
      }
      if (request.terminal !== undefined) {
        // Runs after setsid() in the child: opened without O_NOCTTY, the terminal becomes the new
        // session's controlling terminal (what ioctl(TIOCSCTTY) would do, had posix_spawn a hook for it).
        const tty = cString(request.terminal);
        keep.push(tty);
        libc.posix_spawn_file_actions_addopen(actions, 0, tty, O_RDWR, 0);
      }
      // dup2 of a descriptor onto itself clears close-on-exec in the new process only (glibc
      // 2.29 and later, as POSIX now says): drainit keeps them close-on-exec for everything else.
      for (const fd of handedDown) libc.posix_spawn_file_actions_adddup2(actions, fd, fd);
    }
    try {
      libc.posix_spawnattr_setflags(attr, flags);
      libc.posix_spawnattr_setsigdefault(attr, ALL_SIGNALS);
      libc.posix_spawnattr_setsigmask(attr, NO_SIGNALS);
      libc.posix_spawnattr_setpgroup(attr, 0);
      let rc = libc.posix_spawnp(pidOut, file, actions, attr, argv, envp);
      if (rc === ENOEXEC) {
        // A file the kernel cannot run (a script without #!) runs with /bin/sh, as execvp does
        // (and dumb-init and tini with it); glibc's posix_spawnp no longer does so itself.
        const script = resolveCommand(decoder.decode(file.subarray(0, -1)), request.cwd ?? process.cwd());
        if (!isExecutableFile(SHELL)) {
          return { errno: rc, reason: `${describeErrno(rc)} (not a program, and there is no ${SHELL} to run it as a script)`, notFound: false };
        }
        if (script !== null) {
          const shellArgv = cStringArray([SHELL, script, ...request.argv.slice(1)], keep);
          rc = libc.posix_spawnp(pidOut, cString(SHELL), actions, attr, shellArgv, envp);
        }
      }
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

  terminalOf(fd: number): TerminalInfo | null {
    if (libc.isatty(fd) !== 1) return null;
    const pgid = libc.getpgrp();
    return {
      path: terminalPath(fd),
      leadsSession: libc.tcgetsid(fd) === libc.getpid(),
      inForeground: libc.tcgetpgrp(fd) === pgid,
    };
  }

  detachTerminal(fd: number): void {
    if (libc.ioctl(fd, TIOCNOTTY, 0n) !== 0) {
      throw new Error(`cannot give up the terminal: ${describeErrno(errno())}`);
    }
  }

  setForegroundGroup(fd: number, pgid: number): void {
    if (libc.tcsetpgrp(fd, pgid) !== 0) {
      throw new Error(`cannot make group ${pgid} the terminal's foreground: ${describeErrno(errno())}`);
    }
  }

  sockDiagDump(request: Uint8Array): Uint8Array[] {
    const fd = libc.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) throw new Error(`sock_diag socket: ${describeErrno(errno())}`);
    try {
      const kernelAddress = new Uint8Array(12); // struct sockaddr_nl, pid 0: the kernel
      new DataView(kernelAddress.buffer).setUint16(0, AF_NETLINK, true);
      if (libc.sendto(fd, request, request.length, 0, kernelAddress, kernelAddress.length) < 0) {
        throw new Error(`sock_diag send: ${describeErrno(errno())}`);
      }
      const datagrams: Uint8Array[] = [];
      const buffer = new Uint8Array(NETLINK_RECEIVE_BYTES);
      while (datagrams.length < NETLINK_MAX_DATAGRAMS) {
        // Never block the event loop: the kernel fills the next part of a dump as the previous one is read.
        const received = libc.recv(fd, buffer, buffer.length, MSG_DONTWAIT);
        if (received < 0) {
          const code = errno();
          if (code === EINTR) continue;
          if (code === EAGAIN) break;
          throw new Error(`sock_diag receive: ${describeErrno(code)}`);
        }
        if (received === 0) break;
        const datagram = buffer.slice(0, received);
        datagrams.push(datagram);
        if (endsDump(datagram)) break;
      }
      return datagrams;
    } finally {
      libc.close(fd);
    }
  }
}
