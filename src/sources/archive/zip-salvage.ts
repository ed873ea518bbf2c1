import { inflateRawSync } from "node:zlib";

/** One entry recovered from a zip's local headers. */
export interface SalvagedEntry {
  readonly name: string;
  readonly compressedSize: number;
  /** The entry's bytes, or why they could not be read. */
  readonly data: Buffer | { readonly error: string };
}

const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;

/**
 * Walks a zip's local file headers front to back, for a zip whose central directory is
 * missing (a truncated download): the entries before the damage are still recovered.
 * Inflation is capped at `maxOut` bytes per entry so a bomb cannot grow here either. Stops
 * at the first header it cannot follow; `end()` of the returned generator says why.
 *
 * @example
 *   for (const e of salvageZip(buf, 1 << 20)) console.log(e.name);
 */
export function* salvageZip(buf: Buffer, maxOut: number): Generator<SalvagedEntry, string> {
  let off = 0;
  while (off + 30 <= buf.length) {
    if (buf.readUInt32LE(off) !== LOCAL) return "no further local header";
    const flags = buf.readUInt16LE(off + 6);
    const method = buf.readUInt16LE(off + 8);
    let csize = buf.readUInt32LE(off + 18);
    const nameLen = buf.readUInt16LE(off + 26);
    const extraLen = buf.readUInt16LE(off + 28);
    const start = off + 30 + nameLen + extraLen;
    if (start > buf.length) return "truncated local header";
    const name = buf.toString((flags & 0x800) !== 0 ? "utf8" : "latin1", off + 30, off + 30 + nameLen);
    const streamed = (flags & 0x08) !== 0;
    if (streamed && method !== 8) return `entry ${name} has no size in its header`;
    if ((flags & 0x01) !== 0) {
      if (streamed) return `encrypted entry ${name} has no size in its header`;
      yield { name, compressedSize: csize, data: { error: "encrypted entry" } };
      off = start + csize;
      continue;
    }
    let data: Buffer | { error: string };
    if (method === 0) {
      if (start + csize > buf.length) return `entry ${name} is cut short`;
      data = buf.subarray(start, start + csize);
    } else if (method === 8) {
      try {
        const r = inflateRawSync(buf.subarray(start, streamed ? buf.length : start + csize), {
          info: true,
          maxOutputLength: maxOut,
        }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
        data = r.buffer;
        if (streamed) csize = r.engine.bytesWritten;
      } catch (e) {
        if (streamed || start + csize > buf.length)
          return `entry ${name} is cut short (${(e as Error).message})`;
        data = { error: (e as Error).message };
      }
    } else {
      if (streamed) return `entry ${name} has no size in its header`;
      data = { error: `compression method ${method} not supported` };
    }
    yield { name, compressedSize: csize, data };
    off = start + csize;
    if (streamed) {
      // Data descriptor: optional signature, CRC, then 32-bit sizes (zip64 is not salvaged).
      off += off + 4 <= buf.length && buf.readUInt32LE(off) === DESCRIPTOR ? 16 : 12;
    }
  }
  return "end of data";
}
