/*
 * drainit's signal handler: the one part of drainit that is not TypeScript.
 *
 * JavaScript cannot run inside a signal handler, and the runtime lets listeners see only
 * some signals (not PWR, STKFLT or the real-time ones; SEGV, ILL, BUS, FPE, ABRT and TRAP
 * belong to its crash handler). This handler catches every signal and does one thing:
 * write a fixed-size record (signal, sender, si_code) to a pipe the event loop reads.
 * A genuine fault, and a signal drainit raised itself that the runtime handles or ignores,
 * goes on to the handler that was there before, so that the runtime's crash report and its
 * own use of signals keep working.
 * Each record is followed by a SIGCHLD to drainit itself, the runtime's way to wake its
 * event loop (a stream on the pipe would wake it too, measured 35-55 us later).
 *
 * Built into a small shared object at build time (scripts/build.mjs), embedded in the
 * executable and loaded from memory by src/sys/libc.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* One record per signal: what the event loop reads (src/runtime/early-signals.ts). */
struct signal_record {
  int32_t signal; /* 1-64 */
  int32_t pid;    /* the sender's pid as this namespace sees it; 0 from the kernel or an outer namespace */
  int32_t code;   /* si_code: SI_USER, SI_QUEUE, SI_TKILL (<= 0) from a process; > 0 from the kernel */
};

/* The pipe's write end; non-blocking, so that the handler can never hang. */
static int record_fd = -1;
/* Each signal's handler before ours: where genuine faults and our own signals go. */
static struct sigaction previous[65];
/* Signals 1-31 whose record met a full pipe (bit n-1 for signal n): read by take_overflowed. */
static uint32_t overflowed;

/* A fault is genuine when the kernel raised it (si_code > 0) for an instruction of ours. */
static int is_genuine_fault(int sig, const siginfo_t *info) {
  if (info->si_code <= 0) return 0; /* kill(), sigqueue(), tgkill(): sent, not raised */
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

/* Whether drainit itself is the source: a signal it sent itself (a thread of the runtime
 * suspending another, a write to a closed pipe) or that its own timers or I/O raised. */
static int is_own(const siginfo_t *info) {
  if (info->si_code == SI_USER || info->si_code == SI_QUEUE || info->si_code == SI_TKILL)
    return info->si_pid == getpid(); /* si_pid is meaningful for these codes only */
  return info->si_code < 0;          /* SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO: our own doing */
}

/* Whether the runtime had a handler (or ignored the signal) before ours. */
static int runtime_handles(int sig) {
  return (previous[sig].sa_flags & SA_SIGINFO) || previous[sig].sa_handler != SIG_DFL;
}

/* Hands the signal to the handler that was there before ours, as if ours did not exist. */
static void chain(int sig, siginfo_t *info, void *context) {
  struct sigaction *old = &previous[sig];
  if (old->sa_flags & SA_SIGINFO) {
    old->sa_sigaction(sig, info, context); /* the runtime's handlers want siginfo and context */
  } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
    old->sa_handler(sig);
  } else if (is_genuine_fault(sig, info)) {
    struct sigaction fallback;             /* nobody to report the fault: returning re-runs the */
    memset(&fallback, 0, sizeof fallback); /* instruction, which then meets the default action */
    fallback.sa_handler = SIG_DFL;         /* (ignored, it would fault again for ever) */
    sigaction(sig, &fallback, NULL);
  }                                        /* else: our own signal, which the runtime ignores */
}

/* The handler for every signal: async-signal-safe (getpid, write, raise, sigaction only). */
static void on_signal(int sig, siginfo_t *info, void *context) {
  int saved_errno = errno;                 /* the interrupted code may be about to read errno */
  /* Own signals the runtime has no handler for are drainit's to decide on: the kernel sends
   * the SIGHUP and SIGCONT of giving up a terminal as if drainit had sent them itself. */
  if (is_genuine_fault(sig, info) || (is_own(info) && runtime_handles(sig))) {
    chain(sig, info, context);
  } else {
    struct signal_record record = {sig, info->si_pid, info->si_code};
    if (info->si_code > 0) record.pid = 0; /* from the kernel: si_pid may hold something else */
    /* One write of 12 bytes is atomic on a pipe; a full pipe drops the record (EAGAIN). */
    if (write(record_fd, &record, sizeof record) != (ssize_t)sizeof record && sig < 32)
      __atomic_or_fetch(&overflowed, 1u << (sig - 1), __ATOMIC_SEQ_CST);
    /* Wakes the event loop the fastest way it has: the runtime's own SIGCHLD listener, which
     * reaps and reads the pipe. SIGCHLD is never forwarded, so one more costs nothing. */
    raise(SIGCHLD);
  }
  errno = saved_errno;
}

/* Installs the handler for every signal but KILL, STOP (uncatchable), 32-33 (glibc's own) and
 * CHLD (the runtime's listener takes it, see above). Takes the pipe's non-blocking write end;
 * returns how many signals it now handles. */
int drainit_install_signal_handler(int fd) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_signal;
  sigemptyset(&action.sa_mask);            /* only the signal being handled is blocked meanwhile */
  record_fd = fd;
  int installed = 0;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD || sig == 32 || sig == 33) continue;
    if (sigaction(sig, NULL, &previous[sig]) != 0) continue;
    /* SA_RESTART: interrupted system calls carry on. SA_ONSTACK as the runtime had it: its crash
     * handler wants the alternate stack, its thread suspension wants the thread's own. */
    action.sa_flags = SA_SIGINFO | SA_RESTART | (previous[sig].sa_flags & SA_ONSTACK);
    if (sigaction(sig, &action, NULL) == 0) installed++;
  }
  return installed;
}

/* Signals 1-31 whose record was dropped on a full pipe since the last call (bit n-1 for n).
 * The kernel keeps at most one of each pending anyway, so one delivery each is what was due. */
uint32_t drainit_take_overflowed(void) {
  return __atomic_exchange_n(&overflowed, 0, __ATOMIC_SEQ_CST);
}
