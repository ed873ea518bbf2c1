import { StringDecoder } from "node:string_decoder";
import type { TextChunk } from "./source.ts";
import { bomLength, type TextEncoding } from "./text-decode.ts";

/**
 * Turns a stream of byte blocks into overlapping text chunks of bounded size, so a 1 GB
 * single-line file is scanned in constant memory and a secret that straddles two blocks is
 * still found. Each chunk repeats the previous one's last `overlap` characters, and owns
 * the matches that start before `ownedTo`: the ranges tile the document exactly, so
 * nothing is reported twice. The overlap must exceed the longest possible match.
 *
 * @example
 *   const c = new TextChunker("big.log", 64 * 1024, "utf8"); for (const b of blocks) yield* c.push(b); yield* c.end();
 */
export class TextChunker {
  readonly #path: string;
  readonly #overlap: number;
  readonly #decoder: StringDecoder;
  readonly #encoding: TextEncoding | "latin1";
  /** UTF-16BE is swapped to little-endian on the way in; an odd byte waits for its pair. */
  readonly #swap: boolean;
  #odd: Buffer | undefined;
  #carry = "";
  #line = 1;
  #column = 1;
  #first = true;

  constructor(path: string, overlap: number, encoding: TextEncoding | "latin1") {
    this.#path = path;
    this.#overlap = overlap;
    this.#encoding = encoding;
    this.#swap = encoding === "utf16be";
    this.#decoder = new StringDecoder(encoding === "utf16be" ? "utf16le" : encoding);
  }

  /** Returns the chunk for one block of bytes; a byte order mark opening the first is dropped. */
  push(block: Buffer): TextChunk {
    const bom = this.#first && this.#encoding !== "latin1" ? bomLength(block, this.#encoding) : 0;
    const bytes = block.subarray(bom);
    return this.#emit(this.#decoder.write(this.#swap ? this.#swapped(bytes) : bytes), block.length);
  }

  #swapped(block: Buffer): Buffer {
    const bytes = this.#odd === undefined ? Buffer.from(block) : Buffer.concat([this.#odd, block]);
    const even = bytes.length & ~1;
    this.#odd = even < bytes.length ? bytes.subarray(even) : undefined;
    return bytes.subarray(0, even).swap16();
  }

  /**
   * Returns the last chunk: the carried tail (plus any bytes the decoder held back), which
   * owns everything in it. Undefined when nothing was pushed.
   */
  end(): TextChunk | undefined {
    const text = this.#carry + this.#decoder.end();
    if (text.length === 0) return undefined;
    const chunk: TextChunk = {
      path: this.#path,
      text,
      line: this.#line,
      column: this.#column,
      ownedTo: text.length,
      bytes: 0,
      first: this.#first,
    };
    this.#carry = "";
    return chunk;
  }

  #emit(fresh: string, bytes: number): TextChunk {
    const text = this.#carry + fresh;
    const keep = Math.min(this.#overlap, text.length);
    const chunk: TextChunk = {
      path: this.#path,
      text,
      line: this.#line,
      column: this.#column,
      ownedTo: text.length - keep,
      bytes,
      first: this.#first,
    };
    this.#first = false;
    const dropped = text.length - keep;
    // Advance the position to the carried tail's first character.
    let lastNl = -1;
    for (let i = text.indexOf("\n"); i >= 0 && i < dropped; i = text.indexOf("\n", i + 1)) {
      this.#line++;
      lastNl = i;
    }
    this.#column = lastNl < 0 ? this.#column + dropped : dropped - lastNl;
    this.#carry = text.slice(dropped);
    return chunk;
  }
}
