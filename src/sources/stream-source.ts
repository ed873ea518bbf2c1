import type { Readable } from "node:stream";
import type { Source, SourceItem } from "./source.ts";
import { TextChunker } from "./text-chunker.ts";
import { sniffEncoding } from "./text-decode.ts";

const BLOCK = 4 * 1024 * 1024;

/**
 * A readable stream (stdin) as one document, in overlapping chunks of about 4 MiB, so
 * `cat huge.log | keywarden scan -` runs in bounded memory.
 *
 * @example
 *   streamSource(process.stdin, "-", catalogue.maxWindow)
 */
export function streamSource(stream: Readable, path: string, overlap: number): Source {
  return {
    async *items(): AsyncIterable<SourceItem> {
      // Made at the first block, whose first bytes tell UTF-16 (a Windows pipe) from UTF-8.
      let chunker: TextChunker | undefined;
      const seen = { utf16: false };
      const push = (block: Buffer) => {
        if (chunker === undefined) {
          const sniffed = sniffEncoding(block);
          // Binary input is scanned as UTF-8 anyway (said below).
          const encoding = sniffed === "binary" ? "utf8" : sniffed;
          seen.utf16 = encoding !== "utf8";
          chunker = new TextChunker(path, overlap, encoding);
        }
        return chunker.push(block);
      };
      const pending: Buffer[] = [];
      let size = 0;
      let sawNul = false;
      for await (const data of stream) {
        const buf = typeof data === "string" ? Buffer.from(data) : (data as Buffer);
        if (!sawNul && buf.includes(0)) sawNul = true;
        pending.push(buf);
        size += buf.length;
        if (size >= BLOCK) {
          yield { kind: "chunk", chunk: push(Buffer.concat(pending)) };
          pending.length = 0;
          size = 0;
        }
      }
      if (size > 0) yield { kind: "chunk", chunk: push(Buffer.concat(pending)) };
      if (chunker === undefined) return;
      const last = chunker.end();
      if (last !== undefined) yield { kind: "chunk", chunk: last };
      if (sawNul && !seen.utf16)
        yield { kind: "skipped", skipped: { path, reason: "NUL bytes in input: scanned as text anyway" } };
    },
  };
}
