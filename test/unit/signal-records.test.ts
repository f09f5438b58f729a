import { describe, expect, it } from "vitest";
import { RECORD_BYTES, SignalRecordDecoder } from "../../src/sys/signal-records.ts";

/** Records as src/sys/signal-handler.c writes them: three little-endian 32-bit integers. */
function records(...items: Array<[number, number, number]>): Uint8Array {
  const bytes = new Uint8Array(items.length * RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  items.forEach(([signal, pid, code], i) => {
    view.setInt32(i * RECORD_BYTES, signal, true);
    view.setInt32(i * RECORD_BYTES + 4, pid, true);
    view.setInt32(i * RECORD_BYTES + 8, code, true);
  });
  return bytes;
}

describe("SignalRecordDecoder", () => {
  it("reads signal, sender and si_code of each record in order", () => {
    const decoder = new SignalRecordDecoder();
    expect(decoder.decode(records([15, 42, 0], [37, 7, -1], [17, 0, 1]))).toEqual([
      { signal: 15, senderPid: 42, code: 0 },
      { signal: 37, senderPid: 7, code: -1 },
      { signal: 17, senderPid: 0, code: 1 },
    ]);
  });

  it("keeps a record split between two reads for the next one", () => {
    const decoder = new SignalRecordDecoder();
    const bytes = records([10, 100, 0], [12, 200, -6]);
    expect(decoder.decode(bytes.subarray(0, 17))).toEqual([{ signal: 10, senderPid: 100, code: 0 }]);
    expect(decoder.decode(bytes.subarray(17, 20))).toEqual([]);
    expect(decoder.decode(bytes.subarray(20))).toEqual([{ signal: 12, senderPid: 200, code: -6 }]);
  });

  it("reads a record delivered one byte at a time", () => {
    const decoder = new SignalRecordDecoder();
    const bytes = records([64, 3, -1]);
    const out = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.decode(bytes.subarray(i, i + 1)));
    expect(out).toEqual([{ signal: 64, senderPid: 3, code: -1 }]);
  });
});
