import { describe, expect, it } from "vitest";
import { inheritedAmong } from "../../src/runtime/inherited-descriptors.ts";

const open = (entries: Record<number, string>) =>
  Object.entries(entries).map(([fd, target]) => ({ fd: Number(fd), target }));

describe("inherited descriptors", () => {
  it("are every descriptor from 3 up but the runtime's epoll instance and the eventfd it watches", () => {
    const listing = open({
      0: "/dev/null",
      1: "pipe:[1]",
      2: "pipe:[2]",
      3: "anon_inode:[eventpoll]",
      4: "/tmp/a",
      5: "anon_inode:[eventfd]",
      9: "/etc/hostname",
      251: "socket:[7]",
    });
    expect(inheritedAmong(listing, (fd) => (fd === 3 ? [5] : []))).toEqual([4, 9, 251]);
  });

  it("include an epoll instance or an eventfd that is not the runtime's pair", () => {
    const listing = open({
      3: "anon_inode:[eventfd]",
      4: "anon_inode:[eventpoll]",
      5: "anon_inode:[eventpoll]",
      6: "anon_inode:[eventfd]",
    });
    // 5 watches the eventfd 6: the runtime's. 4 watches a socket, 3 is watched by nothing.
    expect(inheritedAmong(listing, (fd) => (fd === 5 ? [6] : fd === 4 ? [40] : []))).toEqual([3, 4]);
  });

  it("need no look at what an epoll instance watches when there is one of each", () => {
    const listing = open({ 3: "anon_inode:[eventpoll]", 4: "socket:[9]", 5: "anon_inode:[eventfd]" });
    const watches = () => {
      throw new Error("not needed");
    };
    expect(inheritedAmong(listing, watches)).toEqual([4]);
  });

  it("are none when only 0-2 and the runtime's pair are open", () => {
    const listing = open({ 0: "/dev/null", 1: "/dev/null", 2: "/dev/null", 3: "anon_inode:[eventpoll]", 4: "anon_inode:[eventfd]" });
    expect(inheritedAmong(listing, () => [4])).toEqual([]);
  });
});
