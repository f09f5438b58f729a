// The records src/sys/signal-handler.c writes to its pipe, one per signal, read back from
// chunks of any size (a read may end in the middle of a record; the rest comes with the next).

/** struct signal_record: three 32-bit integers in the machine's byte order (little-endian on x64 and arm64). */
export const RECORD_BYTES = 12;

export interface SignalRecord {
  signal: number;
  /** The sender's pid as drainit's namespace sees it; 0 when the kernel or an outer namespace sent it. */
  senderPid: number;
  /** si_code: <= 0 when a process sent it (kill, sigqueue, tgkill), > 0 when the kernel did. */
  code: number;
}

export class SignalRecordDecoder {
  private partial = new Uint8Array(0);

  /** The whole records in `chunk` (after what the previous chunk left over), in arrival order. */
  decode(chunk: Uint8Array): SignalRecord[] {
    let bytes = chunk;
    if (this.partial.length > 0) {
      bytes = new Uint8Array(this.partial.length + chunk.length);
      bytes.set(this.partial);
      bytes.set(chunk, this.partial.length);
    }
    const whole = bytes.length - (bytes.length % RECORD_BYTES);
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    const records: SignalRecord[] = [];
    for (let offset = 0; offset < whole; offset += RECORD_BYTES) {
      records.push({
        signal: view.getInt32(offset, true),
        senderPid: view.getInt32(offset + 4, true),
        code: view.getInt32(offset + 8, true),
      });
    }
    this.partial = bytes.slice(whole);
    return records;
  }
}
