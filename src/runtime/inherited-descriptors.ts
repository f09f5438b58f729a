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
  const eventfds = new Set(open.filter((d) => d.target === EVENTFD).map((d) => d.fd));
  const runtimeOwn = new Set<number>();
  for (const { fd } of open.filter((d) => d.target === EPOLL)) {
    const watchedEventfds = watches(fd).filter((watched) => eventfds.has(watched));
    if (watchedEventfds.length === 0) continue;
    runtimeOwn.add(fd);
    for (const watched of watchedEventfds) runtimeOwn.add(watched);
  }
  return open
    .map((d) => d.fd)
    .filter((fd) => fd >= 3 && !runtimeOwn.has(fd))
    .sort((a, b) => a - b);
}
