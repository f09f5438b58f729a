// When did the app last see traffic? Compares successive snapshots of its TCP sockets (pure).
// Traffic is a new connection to one of its listening ports, or data arriving on an existing
// one: load balancers reuse keep-alive connections, so counting connections alone is not enough.
import { TCP_LISTEN, type TcpSocket } from "./sock-diag.ts";

export interface Snapshot {
  /** Clock time the snapshot was taken. */
  at: number;
  sockets: readonly TcpSocket[];
  /** The app's listening ports: connections to these are its traffic. */
  ports: ReadonlySet<number>;
}

function connectionKey(socket: TcpSocket): string {
  return `${socket.localAddress}/${socket.localPort}>${socket.remoteAddress}/${socket.remotePort}`;
}

export class ActivityTracker {
  private known = new Map<string, bigint | undefined>();
  private lastAt: number;
  private seenFirst = false;

  /** `since`: when watching began; with no traffic at all, idleness counts from there. */
  constructor(since: number) {
    this.lastAt = since;
  }

  /** Time of the last traffic seen so far. */
  get lastActivityAt(): number {
    return this.lastAt;
  }

  idleMs(now: number): number {
    return Math.max(0, now - this.lastAt);
  }

  update(snapshot: Snapshot): void {
    const { at, ports } = snapshot;
    const current = new Map<string, bigint | undefined>();
    for (const socket of snapshot.sockets) {
      if (socket.state === TCP_LISTEN || !ports.has(socket.localPort)) continue;
      const key = connectionKey(socket);
      current.set(key, socket.bytesReceived);
      const receivedAt = socket.lastDataReceivedMs === undefined ? at : at - socket.lastDataReceivedMs;
      const before = this.known.get(key);
      const isNew = !this.known.has(key);
      if (!this.seenFirst) {
        // Connections open when watching began: only their last data counts, if the kernel tells it.
        if (socket.lastDataReceivedMs !== undefined) this.note(receivedAt);
      } else if (isNew) {
        this.note(receivedAt);
      } else if (socket.bytesReceived !== undefined && before !== undefined && socket.bytesReceived > before) {
        this.note(receivedAt);
      }
    }
    this.known = current;
    this.seenFirst = true;
  }

  private note(at: number): void {
    if (at > this.lastAt) this.lastAt = at;
  }
}
