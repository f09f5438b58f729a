// The kernel's TCP socket tables, read two ways (pure parsing, no I/O):
// - netlink sock_diag answers, with TCP info per socket (time since data was last
//   received, bytes received): what `ss -ti` shows;
// - /proc/net/tcp and tcp6 text, which has no TCP info: it only shows which
//   connections exist, so it sees new connections but not data on old ones.

export const AF_INET = 2;
export const AF_INET6 = 10;
export const TCP_LISTEN = 10;

export interface TcpSocket {
  family: typeof AF_INET | typeof AF_INET6;
  state: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  inode: number;
  /** Milliseconds since data last arrived on this socket (sock_diag only). */
  lastDataReceivedMs?: number;
  /** Bytes received so far on this socket (sock_diag only). */
  bytesReceived?: bigint;
}

// <linux/netlink.h>, <linux/sock_diag.h>, <linux/inet_diag.h>
const NLMSG_HEADER_BYTES = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const IPPROTO_TCP = 6;
const INET_DIAG_INFO = 2;
const INET_DIAG_REQ_BYTES = 56;
const INET_DIAG_MSG_BYTES = 72;
// Offsets in struct tcp_info.
const TCPI_LAST_DATA_RECV = 52;
const TCPI_BYTES_RECEIVED = 128;

export class SockDiagError extends Error {}

/** A dump request for every TCP socket of one address family, with TCP info. */
export function buildDumpRequest(family: typeof AF_INET | typeof AF_INET6, sequence = 1): Uint8Array {
  const bytes = new Uint8Array(NLMSG_HEADER_BYTES + INET_DIAG_REQ_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  view.setUint32(8, sequence, true);
  bytes[16] = family;
  bytes[17] = IPPROTO_TCP;
  bytes[18] = 1 << (INET_DIAG_INFO - 1);
  view.setUint32(20, 0xffffffff, true); // every TCP state
  return bytes;
}

function formatAddress(bytes: Uint8Array, family: number): string {
  if (family === AF_INET) return Array.from(bytes.subarray(0, 4)).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":");
}

function parseDiagMessage(bytes: Uint8Array, start: number, end: number): TcpSocket {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const family = bytes[start]! === AF_INET6 ? AF_INET6 : AF_INET;
  const socket: TcpSocket = {
    family,
    state: bytes[start + 1]!,
    localPort: view.getUint16(start + 4, false),
    remotePort: view.getUint16(start + 6, false),
    localAddress: formatAddress(bytes.subarray(start + 8, start + 24), family),
    remoteAddress: formatAddress(bytes.subarray(start + 24, start + 40), family),
    inode: view.getUint32(start + 68, true),
  };
  let attr = start + INET_DIAG_MSG_BYTES;
  while (attr + 4 <= end) {
    const length = view.getUint16(attr, true);
    const type = view.getUint16(attr + 2, true);
    if (length < 4) break;
    const payload = attr + 4;
    if (type === INET_DIAG_INFO && length - 4 >= TCPI_BYTES_RECEIVED + 8) {
      socket.lastDataReceivedMs = view.getUint32(payload + TCPI_LAST_DATA_RECV, true);
      socket.bytesReceived = view.getBigUint64(payload + TCPI_BYTES_RECEIVED, true);
    }
    attr += (length + 3) & ~3;
  }
  return socket;
}

/** Parses the datagrams of one dump. `done` tells whether NLMSG_DONE was seen. */
export function parseDumpAnswer(datagrams: readonly Uint8Array[]): { sockets: TcpSocket[]; done: boolean } {
  const sockets: TcpSocket[] = [];
  let done = false;
  for (const bytes of datagrams) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    while (offset + NLMSG_HEADER_BYTES <= bytes.length) {
      const length = view.getUint32(offset, true);
      const type = view.getUint16(offset + 4, true);
      if (length < NLMSG_HEADER_BYTES || offset + length > bytes.length) {
        throw new SockDiagError("truncated netlink message");
      }
      if (type === NLMSG_DONE) done = true;
      else if (type === NLMSG_ERROR) {
        const errno = -view.getInt32(offset + NLMSG_HEADER_BYTES, true);
        throw new SockDiagError(`sock_diag answered error ${errno}`);
      } else if (type === SOCK_DIAG_BY_FAMILY && length >= NLMSG_HEADER_BYTES + INET_DIAG_MSG_BYTES) {
        sockets.push(parseDiagMessage(bytes, offset + NLMSG_HEADER_BYTES, offset + length));
      }
      offset += (length + 3) & ~3;
    }
  }
  return { sockets, done };
}

function parseProcAddress(hex: string, family: number): string {
  // The kernel prints each 32-bit word in host (little-endian) order.
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = new Uint8Array(words.length * 4);
  words.forEach((word, i) => {
    const value = parseInt(word, 16);
    bytes[i * 4] = value & 0xff;
    bytes[i * 4 + 1] = (value >>> 8) & 0xff;
    bytes[i * 4 + 2] = (value >>> 16) & 0xff;
    bytes[i * 4 + 3] = (value >>> 24) & 0xff;
  });
  return formatAddress(bytes, family);
}

/** Parses /proc/net/tcp (family AF_INET) or /proc/net/tcp6 (AF_INET6). */
export function parseProcNetTcp(text: string, family: typeof AF_INET | typeof AF_INET6): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [localAddress, localPort] = fields[1]!.split(":");
    const [remoteAddress, remotePort] = fields[2]!.split(":");
    sockets.push({
      family,
      state: parseInt(fields[3]!, 16),
      localAddress: parseProcAddress(localAddress!, family),
      localPort: parseInt(localPort!, 16),
      remoteAddress: parseProcAddress(remoteAddress!, family),
      remotePort: parseInt(remotePort!, 16),
      inode: Number(fields[9]),
    });
  }
  return sockets;
}
