// Which of the descriptors open at the first line of JavaScript drainit inherited (pure).
// The runtime's only own descriptors then are its epoll instance and the eventfd it watches;
// every other one from 3 up was handed down by drainit's caller.
import type { OpenDescriptor } from "../sys/proc.ts";

const EPOLL = "anon_inode:[eventpoll]";
const EVENTFD = "anon_inode:[eventfd]";

/**
 * The inherited descriptors among those open at the first line of JavaScript: every one from 3
 * up but the runtime's epoll instance and the eventfd it watches (pure, given `watches`).
 */
export function inheritedAmong(open: OpenDescriptor[], watches: (epollFd: number) => number[]): number[] {
  const runtimeOwn = runtimeDescriptors(open, watches);
  return open
    .map((d) => d.fd)
    .filter((fd) => fd >= 3 && !runtimeOwn.has(fd))
    .sort((a, b) => a - b);
}

function runtimeDescriptors(open: OpenDescriptor[], watches: (epollFd: number) => number[]): Set<number> {
  const epolls = open.filter((d) => d.target === EPOLL).map((d) => d.fd);
  const eventfds = open.filter((d) => d.target === EVENTFD).map((d) => d.fd);
  // The usual case, with no need to ask which watches which: the runtime always has both.
  if (epolls.length === 1 && eventfds.length === 1) return new Set([...epolls, ...eventfds]);
  const own = new Set<number>();
  for (const fd of epolls) {
    const watched = watches(fd).filter((target) => eventfds.includes(target));
    if (watched.length === 0) continue;
    own.add(fd);
    for (const target of watched) own.add(target);
  }
  return own;
}
