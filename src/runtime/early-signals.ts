// Every signal drainit gets comes in here, from before anything else is loaded. drainit's own
// handler (src/sys/signal-handler.c) catches them all and writes one record each to a pipe,
// read when the runtime's SIGCHLD listener wakes the event loop. The runtime's listeners alone,
// which cannot see PWR, STKFLT, real-time or kill-sent fault signals, are the fallback when
// the handler cannot be installed. A signal that arrives before the supervisor is ready waits
// (in the pipe, or in a queue for the listeners) rather than be lost. Signals stay blocked from
// before the self-restart's exec until one of the two is in place (see
// restart-with-runtime-settings.ts), so that none sent in between is lost either.
import { readFileSync } from "node:fs";
import { describeError, writeStderr } from "../log.ts";
import { SIGCHLD, SIGNALS } from "../signals.ts";
import { installSignalHandler, readAvailable, unblockAllSignals, type SignalPipe } from "../sys/libc.ts";

/** `senderPid` comes with the handler only (0 when the kernel or another namespace sent it). */
export type SignalRoute = (signal: number, senderPid?: number) => void;

/** Bounds a storm before start-up; standard signals coalesce in the kernel before they get here. */
const MAX_QUEUED = 1024;
const queued: Array<[number, number | undefined]> = [];
let route: SignalRoute | null = null;
let onRouteError: (error: unknown) => void = () => {};

function receive(signal: number, senderPid?: number): void {
  try {
    if (route) route(signal, senderPid);
    else if (queued.length < MAX_QUEUED) queued.push([signal, senderPid]);
  } catch (error) {
    onRouteError(error);
  }
}

/** The handler's shared object for this machine, embedded by scripts/build.mjs. */
function handlerObject(): Uint8Array {
  const name = (Bun.embeddedFiles as Array<Blob & { name: string }>).map((file) => file.name).find((n) => n.startsWith("signal-handler"));
  if (!name) throw new Error("this build carries no signal handler");
  // Embedded files live in the executable's own file system, readable like any file.
  return readFileSync(`/$bunfs/root/${name}`);
}

/** struct signal_record of signal-handler.c: signal, sender pid, si_code, as 32-bit integers. */
const RECORD_BYTES = 12;

/**
 * Room for 1,024 records a read. The handler writes each record whole (a pipe never splits a
 * write this small), so a read of a multiple of its size returns whole records only.
 */
const readBuffer = new Uint8Array(RECORD_BYTES * 1024);
const records = new Int32Array(readBuffer.buffer);
const INTS_PER_RECORD = RECORD_BYTES / 4;

/** Reads per turn of the event loop: a flood must not keep timers and the reaper waiting. */
const MAX_READS_PER_TURN = 16;
let drainScheduled = false;

/** Feeds the records the pipe holds to the route, then what a full pipe dropped. */
function drainPipe(pipe: SignalPipe): void {
  let seenStandard = 0;
  let filledBuffer = false;
  for (let reads = 0; ; reads++) {
    if (reads === MAX_READS_PER_TURN) {
      // More is waiting, and its wake-up may have come already: read on in the next turn.
      if (!drainScheduled) {
        drainScheduled = true;
        setImmediate(() => {
          drainScheduled = false;
          onChildSignal();
        });
      }
      break;
    }
    const count = readAvailable(pipe.readFd, readBuffer);
    for (let at = 0; at < count / 4; at += INTS_PER_RECORD) {
      const signal = records[at]!;
      if (signal < 32) seenStandard |= 1 << (signal - 1);
      receive(signal, records[at + 1]!);
    }
    // A read that did not fill the buffer emptied the pipe.
    if (count < readBuffer.length) break;
    filledBuffer = true;
  }
  // A record can only have found the pipe full if this reader then met a full pipe, too.
  if (!filledBuffer) return;
  // One of each standard signal whose record found the pipe full, as the kernel would have kept.
  const overflowed = pipe.takeOverflowed();
  for (let signal = 1; overflowed !== 0 && signal < 32; signal++) {
    if (overflowed & (1 << (signal - 1)) && !(seenStandard & (1 << (signal - 1)))) receive(signal, 0);
  }
}

/**
 * The signals the runtime lets listeners have (not PWR, STKFLT, real-time signals, nor the
 * faults its crash handler owns). SIGUSR1 must be among them: without a listener it kills
 * the runtime.
 */
const LISTENABLE = [
  "HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM", "CONT", "TSTP", "TTIN",
  "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS", "TRAP", "CHLD",
];

/** The fallback when the handler cannot be installed: the runtime's listeners. */
function listen(): void {
  for (const name of LISTENABLE) {
    const signal = SIGNALS[name]!;
    if (signal === SIGCHLD) process.on("SIGCHLD", onChildSignal);
    else process.on(`SIG${name}` as NodeJS.Signals, () => receive(signal));
  }
}

/** The handler's pipe; null with the runtime's listeners. */
let signalPipe: SignalPipe | null = null;

/**
 * The runtime's SIGCHLD listener: for a child that ended, and, with the handler, after each
 * record (the handler raises SIGCHLD to wake the event loop). Until signals are routed the
 * pipe keeps its records: reading it then costs the child's start nothing.
 */
function onChildSignal(): void {
  try {
    if (route && signalPipe) drainPipe(signalPipe);
  } catch (error) {
    onRouteError(error);
  }
  receive(SIGCHLD);
}

function installOrListen(): void {
  try {
    signalPipe = installSignalHandler(handlerObject());
    process.on("SIGCHLD", onChildSignal);
  } catch (error) {
    const reason = describeError(error);
    writeStderr(
      `drainit: cannot install its signal handler (${reason}): only the signals the runtime lets it listen to are forwarded\n`,
    );
    listen();
  } finally {
    // Whatever was sent since the self-restart's exec is delivered now, to one or the other.
    unblockAllSignals();
  }
}

installOrListen();

/**
 * From now on every signal goes to `next`; those that came before are delivered first, in order.
 * The handler's pipe is read from here on: until then it keeps the records itself, so that
 * setting up the reading costs the child's start nothing.
 */
export function routeSignals(next: SignalRoute, onError: (error: unknown) => void): void {
  onRouteError = onError;
  route = next;
  for (const [signal, senderPid] of queued.splice(0)) {
    try {
      next(signal, senderPid);
    } catch (error) {
      onError(error);
    }
  }
  if (signalPipe) drainPipe(signalPipe);
}
