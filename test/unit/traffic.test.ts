// Traffic detection for the adaptive drain, on recorded sock_diag answers and made-up snapshots.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ActivityTracker } from "../../src/drain/activity.ts";
import {
  AF_INET,
  AF_INET6,
  TCP_LISTEN,
  buildDumpRequest,
  parseDumpAnswer,
  parseProcNetTcp,
  SockDiagError,
  type TcpSocket,
} from "../../src/drain/sock-diag.ts";
import { listeningPortsOf, socketsOfListeners } from "../../src/drain/traffic.ts";

const fixtures = join(__dirname, "..", "fixtures", "sock-diag");
const manifest = JSON.parse(readFileSync(join(fixtures, "manifest.json"), "utf8"));

function recorded(name: "ipv4" | "ipv6"): Uint8Array {
  return new Uint8Array(Buffer.from(readFileSync(join(fixtures, `${name}.hex`), "utf8").trim(), "hex"));
}

describe("sock_diag answers", () => {
  for (const [name, family, loopback] of [
    ["ipv4", AF_INET, "127.0.0.1"],
    ["ipv6", AF_INET6, "0:0:0:0:0:0:0:1"],
  ] as const) {
    it(`finds the listener and every connection (${name})`, () => {
      const { sockets, done } = parseDumpAnswer([recorded(name)]);
      const { listenPort, connections } = manifest[name];
      expect(done).toBe(true);
      const listener = sockets.find((s) => s.state === TCP_LISTEN && s.localPort === listenPort);
      expect(listener).toMatchObject({ family, localAddress: loopback });
      expect(listener!.inode).toBeGreaterThan(0);
      const serverSide = sockets.filter((s) => s.state !== TCP_LISTEN && s.localPort === listenPort);
      expect(serverSide.map((s) => s.remotePort).sort()).toEqual(
        connections.map((c: { clientPort: number }) => c.clientPort).sort(),
      );
    });

    it(`reads bytes received and time since data per connection (${name})`, () => {
      const { sockets } = parseDumpAnswer([recorded(name)]);
      const { listenPort, connections } = manifest[name];
      for (const connection of connections) {
        const socket = sockets.find((s) => s.localPort === listenPort && s.remotePort === connection.clientPort)!;
        expect(socket.bytesReceived).toBe(BigInt(connection.bytes));
        expect(socket.lastDataReceivedMs).toBeTypeOf("number");
      }
      const byRole = (role: string) =>
        sockets.find((s) => s.remotePort === connections.find((c: { role: string }) => c.role === role).clientPort)!;
      // "busy" got its data 300 ms before "late" did.
      expect(byRole("busy").lastDataReceivedMs!).toBeGreaterThan(byRole("late").lastDataReceivedMs! + 200);
    });
  }

  it("builds a dump request for every TCP socket with TCP info", () => {
    const request = buildDumpRequest(AF_INET6, 7);
    const view = new DataView(request.buffer);
    expect(view.getUint32(0, true)).toBe(request.length);
    expect(view.getUint16(4, true)).toBe(20);
    expect(view.getUint32(8, true)).toBe(7);
    expect([request[16], request[17], request[18]]).toEqual([AF_INET6, 6, 2]);
  });

  it("reports an error answer", () => {
    const error = new Uint8Array(36);
    const view = new DataView(error.buffer);
    view.setUint32(0, 36, true);
    view.setUint16(4, 2, true);
    view.setInt32(16, -1, true);
    expect(() => parseDumpAnswer([error])).toThrow(SockDiagError);
  });

  it("refuses a truncated message", () => {
    expect(() => parseDumpAnswer([recorded("ipv4").subarray(0, 50)])).toThrow(/truncated/);
  });
});

describe("/proc/net/tcp", () => {
  const text = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0",
    "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1",
  ].join("\n");

  it("parses listeners and connections, without TCP info", () => {
    const sockets = parseProcNetTcp(text, AF_INET);
    expect(sockets).toHaveLength(2);
    expect(sockets[0]).toMatchObject({ state: TCP_LISTEN, localAddress: "127.0.0.1", localPort: 8080, inode: 4242 });
    expect(sockets[1]).toMatchObject({ state: 1, remotePort: 0xd431, inode: 4243 });
    expect(sockets[1]!.bytesReceived).toBeUndefined();
  });

  it("parses IPv6 addresses", () => {
    const line = "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1";
    expect(parseProcNetTcp(`header\n${line}`, AF_INET6)[0]).toMatchObject({ localAddress: "0:0:0:0:0:0:0:1", localPort: 8080 });
  });
});

describe("the app's listening ports", () => {
  it("are the LISTEN sockets whose inode the app holds", () => {
    const { sockets } = parseDumpAnswer([recorded("ipv4")]);
    const listener = sockets.find((s) => s.state === TCP_LISTEN)!;
    expect([...listeningPortsOf(sockets, new Set([listener.inode]))]).toEqual([listener.localPort]);
    expect(listeningPortsOf(sockets, new Set([1]))).toEqual(new Set());
  });

  it("own only the connections to their address, unless they listen on any", () => {
    const mine = connection(5001, { localAddress: "127.0.0.5", localPort: 8080 });
    const neighbours = connection(5002, { localAddress: "127.0.0.6", localPort: 8080 });
    const otherPort = connection(5003, { localAddress: "127.0.0.5", localPort: 9090 });
    const sockets = [mine, neighbours, otherPort];
    const listener = (localAddress: string, family: TcpSocket["family"] = AF_INET): TcpSocket => ({
      ...connection(0, { localAddress, localPort: 8080, family }),
      state: TCP_LISTEN,
      remoteAddress: "0.0.0.0",
    });
    expect(socketsOfListeners(sockets, [listener("127.0.0.5")])).toEqual([mine]);
    expect(socketsOfListeners(sockets, [listener("0.0.0.0")])).toEqual([mine, neighbours]);
    expect(socketsOfListeners(sockets, [listener("0:0:0:0:0:0:0:0", AF_INET6)])).toEqual([mine, neighbours]);
    expect(socketsOfListeners(sockets, [listener("127.0.0.7")])).toEqual([]);
  });
});

function connection(remotePort: number, extra: Partial<TcpSocket> = {}): TcpSocket {
  return {
    family: AF_INET, state: 1, localAddress: "127.0.0.1", localPort: 80,
    remoteAddress: "127.0.0.1", remotePort, inode: remotePort, ...extra,
  };
}

describe("activity tracking", () => {
  const ports = new Set([80]);

  it("counts idleness from the start when nothing happens", () => {
    const tracker = new ActivityTracker(1_000);
    tracker.update({ at: 1_200, sockets: [], ports });
    expect(tracker.idleMs(3_000)).toBe(2_000);
  });

  it("sees a new connection as traffic", () => {
    const tracker = new ActivityTracker(0);
    tracker.update({ at: 100, sockets: [], ports });
    tracker.update({ at: 300, sockets: [connection(5000)], ports });
    expect(tracker.lastActivityAt).toBe(300);
  });

  it("sees new data on a kept-alive connection as traffic, and its absence as none", () => {
    const tracker = new ActivityTracker(0);
    const open = (bytes: bigint, lastDataReceivedMs: number) =>
      connection(5000, { bytesReceived: bytes, lastDataReceivedMs });
    tracker.update({ at: 100, sockets: [open(10n, 100)], ports });
    tracker.update({ at: 300, sockets: [open(10n, 300)], ports });
    expect(tracker.lastActivityAt).toBe(0);
    tracker.update({ at: 500, sockets: [open(25n, 40)], ports });
    expect(tracker.lastActivityAt).toBe(460);
    tracker.update({ at: 2_500, sockets: [open(25n, 2_040)], ports });
    expect(tracker.idleMs(2_500)).toBe(2_040);
  });

  it("takes the last data of connections already open when watching starts", () => {
    const tracker = new ActivityTracker(1_000);
    tracker.update({ at: 1_000, sockets: [connection(5000, { bytesReceived: 5n, lastDataReceivedMs: 0 })], ports });
    expect(tracker.lastActivityAt).toBe(1_000);
    const old = new ActivityTracker(1_000);
    old.update({ at: 1_000, sockets: [connection(5000, { bytesReceived: 5n, lastDataReceivedMs: 900 })], ports });
    expect(old.lastActivityAt).toBe(1_000);
  });

  it("ignores other ports and the listener itself", () => {
    const tracker = new ActivityTracker(0);
    tracker.update({ at: 100, sockets: [], ports });
    tracker.update({
      at: 200,
      sockets: [connection(5000, { localPort: 9999 }), connection(0, { state: TCP_LISTEN })],
      ports,
    });
    expect(tracker.lastActivityAt).toBe(0);
  });

  it("sees a reused client port as a new connection once the old one is gone", () => {
    const tracker = new ActivityTracker(0);
    tracker.update({ at: 100, sockets: [connection(5000)], ports });
    tracker.update({ at: 200, sockets: [], ports });
    tracker.update({ at: 300, sockets: [connection(5000)], ports });
    expect(tracker.lastActivityAt).toBe(300);
  });

  it("keeps up with many sockets", () => {
    const tracker = new ActivityTracker(0);
    const many = Array.from({ length: 5_000 }, (_, i) => connection(10_000 + i, { bytesReceived: 1n, lastDataReceivedMs: 50 }));
    tracker.update({ at: 100, sockets: many, ports });
    tracker.update({ at: 200, sockets: many.map((s) => ({ ...s, lastDataReceivedMs: 150 })), ports });
    expect(tracker.lastActivityAt).toBe(50);
    const one = many.map((s, i) => (i === 4_999 ? { ...s, bytesReceived: 2n, lastDataReceivedMs: 10 } : s));
    tracker.update({ at: 300, sockets: one, ports });
    expect(tracker.lastActivityAt).toBe(290);
  });
});
