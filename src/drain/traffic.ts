// Watches the app's listening ports for traffic, from inside the container, with no tool and no
// privilege: the kernel's sock_diag (TCP info per socket) or, failing that, /proc/net/tcp{,6}.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import type { Logger } from "../log.ts";
import { describeError } from "../log.ts";
import type { TrafficWatch } from "../supervisor/adaptive-drain.ts";
import type { Kernel } from "../sys/kernel.ts";
import { allProcesses } from "../sys/proc.ts";
import { ActivityTracker } from "./activity.ts";
import {
  AF_INET,
  AF_INET6,
  TCP_LISTEN,
  buildDumpRequest,
  parseDumpAnswer,
  parseProcNetTcp,
  type TcpSocket,
} from "./sock-diag.ts";

type TrafficSource = "sock_diag" | "proc";

function readSocketsFromKernel(kernel: Kernel): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const family of [AF_INET, AF_INET6] as const) {
    sockets.push(...parseDumpAnswer(kernel.sockDiagDump(buildDumpRequest(family))).sockets);
  }
  return sockets;
}

function readSocketsFromProc(): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const [file, family] of [["tcp", AF_INET], ["tcp6", AF_INET6]] as const) {
    try {
      sockets.push(...parseProcNetTcp(readFileSync(`/proc/net/${file}`, "utf8"), family));
    } catch {
      // No IPv6 in this kernel, say: the other family still counts.
    }
  }
  return sockets;
}

/** Processes that belong to the app: its session or group, or descended from it. */
function appProcesses(rootPid: number): number[] {
  const parentOf = new Map<number, number>();
  const members: number[] = [];
  for (const { pid, ppid, pgrp, session } of allProcesses()) {
    parentOf.set(pid, ppid);
    if (pid === rootPid || pgrp === rootPid || session === rootPid) members.push(pid);
  }
  for (const pid of parentOf.keys()) {
    if (members.includes(pid)) continue;
    for (let up = parentOf.get(pid); up !== undefined && up > 1; up = parentOf.get(up)) {
      if (up === rootPid) {
        members.push(pid);
        break;
      }
    }
  }
  return members;
}

function socketInodesOf(pids: readonly number[]): Set<number> {
  const inodes = new Set<number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(Number(match[1]));
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** The app's LISTEN sockets: those whose inode one of its processes holds. */
function appListenersOf(sockets: readonly TcpSocket[], appInodes: ReadonlySet<number>): TcpSocket[] {
  return sockets.filter((socket) => socket.state === TCP_LISTEN && appInodes.has(socket.inode));
}

/** Ports the app listens on. */
export function listeningPortsOf(sockets: readonly TcpSocket[], appInodes: ReadonlySet<number>): Set<number> {
  return new Set(appListenersOf(sockets, appInodes).map((socket) => socket.localPort));
}

const ANY_ADDRESS = new Set(["0.0.0.0", "0:0:0:0:0:0:0:0"]);

/**
 * The sockets that belong to the app's listeners: same port, and same address unless the
 * listener takes any. Processes sharing the network namespace (host networking, several apps on
 * one machine) may listen on the same port at other addresses; their traffic is not the app's.
 */
export function socketsOfListeners(sockets: readonly TcpSocket[], listeners: readonly TcpSocket[]): TcpSocket[] {
  return sockets.filter((socket) =>
    listeners.some(
      (listener) =>
        listener.localPort === socket.localPort &&
        (ANY_ADDRESS.has(listener.localAddress) || listener.localAddress === socket.localAddress),
    ),
  );
}

export function watchTraffic(
  kernel: Kernel,
  appPid: number,
  explicitPorts: readonly number[],
  now: number,
  log: Logger,
): TrafficWatch {
  const tracker = new ActivityTracker(now);
  // sock_diag until the kernel refuses it (no netlink in a seccomp profile, say).
  let source = "sock_diag" as TrafficSource;
  let ports = new Set(explicitPorts);
  // Found by inode when no port was given; with --drain-port, any address of those ports counts.
  let listeners: TcpSocket[] = [];

  const readSockets = (): TcpSocket[] => {
    if (source === "sock_diag") {
      try {
        return readSocketsFromKernel(kernel);
      } catch (error) {
        source = "proc";
        log.warn(
          `sock_diag unavailable (${describeError(error)}): ` +
            "watching /proc/net/tcp instead, which sees new connections but not data on open ones",
        );
      }
    }
    return readSocketsFromProc();
  };

  const sample = (at: number): void => {
    const sockets = readSockets();
    if (ports.size === 0) {
      listeners = appListenersOf(sockets, socketInodesOf(appProcesses(appPid)));
      ports = new Set(listeners.map((socket) => socket.localPort));
      if (ports.size) log.info("watching the app's ports for traffic", { ports: [...ports].join(","), source });
    }
    tracker.update({ at, sockets: listeners.length ? socketsOfListeners(sockets, listeners) : sockets, ports });
  };

  sample(now);
  if (ports.size === 0) log.warn("found no listening port of the app yet (give --drain-port to name them)");
  if (source === "proc") log.info("traffic is seen through /proc/net/tcp: new connections only, not data");
  return {
    sampleIdleMs(at: number): number {
      sample(at);
      return tracker.idleMs(at);
    },
    get lastActivityAt() {
      return tracker.lastActivityAt;
    },
  };
}
