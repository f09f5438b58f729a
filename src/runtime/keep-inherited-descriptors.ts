// The descriptors drainit's caller handed down (sockets of socket activation, pipes of a
// supervisor, --preserve-fds), to be handed on to the child at the same numbers, as dumb-init
// and tini do. The runtime marks every descriptor from 4 up close-on-exec as it starts
// (close_range(4, ~0, CLOSE_RANGE_CLOEXEC)), so they would be lost to the self-restart's exec and
// to the child: they are kept open across the restart, and spawn() clears the flag in the child
// alone. drainit keeps them close-on-exec itself, so hooks get none of them.
//
// Recorded when this module is evaluated: imported by the self-restart, which main.ts imports
// first, it runs before drainit opens any descriptor of its own.
import { setCloseOnExec } from "../sys/libc.ts";
import { epollWatches, openDescriptors } from "../sys/proc.ts";
import { inheritedAmong } from "./inherited-descriptors.ts";

const inherited: readonly number[] = inheritedAmong(openDescriptors(), epollWatches);
// Hooks and the exec of anything but the child must not get them (fd 3 is not marked by the runtime).
for (const fd of inherited) setCloseOnExec(fd, true);

/** The descriptors from 3 up that drainit inherited, in ascending order. */
export function inheritedDescriptors(): readonly number[] {
  return inherited;
}

/** Around the self-restart's exec: keep the inherited descriptors open across it (or no longer). */
export function keepInheritedAcrossExec(keep: boolean): void {
  for (const fd of inherited) setCloseOnExec(fd, !keep);
}
