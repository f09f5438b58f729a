// The ELF interpreter (PT_INTERP) of an executable: the loader path the kernel opens to start it.

export class ElfError extends Error {}

const PT_INTERP = 3;

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

/**
 * The interpreter path of a 64-bit ELF file, or null when it has none (statically linked).
 * Reads only the header and the program headers, so a 100 MB executable costs a few reads.
 */
export function interpreterOf(readAt: ReadAt): string | null {
  const header = readAt(0, 64);
  if (header.length < 64 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    throw new ElfError("not an ELF file");
  }
  if (header[4] !== 2) throw new ElfError("not a 64-bit ELF file");
  const littleEndian = header[5] === 1;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const programHeadersAt = Number(view.getBigUint64(32, littleEndian));
  const entrySize = view.getUint16(54, littleEndian);
  const entryCount = view.getUint16(56, littleEndian);
  if (entrySize < 56) throw new ElfError("malformed ELF program header table");
  const table = readAt(programHeadersAt, entrySize * entryCount);
  if (table.length < entrySize * entryCount) throw new ElfError("truncated ELF program header table");
  const entries = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let i = 0; i < entryCount; i++) {
    const at = i * entrySize;
    if (entries.getUint32(at, littleEndian) !== PT_INTERP) continue;
    const offset = Number(entries.getBigUint64(at + 8, littleEndian));
    const size = Number(entries.getBigUint64(at + 32, littleEndian));
    const bytes = readAt(offset, size);
    const end = bytes.indexOf(0);
    const path = new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
    if (!path.startsWith("/")) throw new ElfError(`unexpected ELF interpreter '${path}'`);
    return path;
  }
  return null;
}
