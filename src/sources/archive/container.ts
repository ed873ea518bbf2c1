import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import ignore, { type Ignore } from "ignore";
import tarStream from "tar-stream";
import yauzl from "yauzl";
import type { SourceItem, TextChunk } from "../source.ts";
import { TextChunker } from "../text-chunker.ts";
import { decodeText, sniffEncoding } from "../text-decode.ts";
import { ByteReader } from "./byte-reader.ts";
import { dockerImageItems, isDockerCandidate, looksLikeDockerSave } from "./docker.ts";
import { ArchiveBudget, ArchiveLimitError, type ArchiveOptions } from "./limits.ts";
import { notebookItems } from "./notebook.ts";
import { salvageZip } from "./zip-salvage.ts";
import { looksLikeTar, sniffContainer, unsupportedArchive, type ContainerKind } from "./sniff.ts";

/** Settings shared by every level of one scan. */
export interface ContainerContext {
  readonly archives: ArchiveOptions;
  /** Entries larger than this are skipped, as files are. */
  readonly maxFileSize: number;
  readonly overlap: number;
  readonly chunkSize: number;
  /** gitignore-style patterns matched against paths inside archives. */
  readonly exclude: readonly string[];
}

/** One level of nesting: the shared settings, the top archive's budget, and the depth. */
export interface Level {
  readonly ctx: ContainerContext;
  readonly budget: ArchiveBudget;
  /** 1 inside an archive on disk, 2 inside an archive in it... */
  readonly depth: number;
  readonly exclude: Ignore;
}

/** Bytes read before deciding what an entry is: the binary sniff's window. */
const HEAD_BYTES = 8000;
/** Folders never read inside archives either. */
const ALWAYS_SKIPPED = [".git/", ".hg/", ".svn/"];

const skipped = (path: string, reason: string): SourceItem => ({
  kind: "skipped",
  skipped: { path, reason },
});

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // Library messages are about structure, but keep them to one short line.
  return m.split("\n")[0]!.slice(0, 200);
}

/** The reason for an archive whose reading stopped early. */
function stopReason(e: unknown): string {
  if (e instanceof ArchiveLimitError) return `${e.message}: rest of the archive skipped`;
  return `corrupt or truncated archive (${message(e)}): rest of the archive skipped`;
}

/**
 * A level's error handling: the parent's data failing (`input.error` set) and whole-archive
 * budgets are the parent's business; anything else ends this level with a skipped item.
 */
function ownError(e: unknown, input: ByteReader | undefined): boolean {
  if (input?.error !== undefined) return false;
  if (e instanceof ArchiveLimitError && e.scope === "top") return false;
  return true;
}

/** Entry names as displayed and matched: no leading `./` or `/`. */
function cleanName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, "");
}

function isExcluded(lv: Level, name: string): boolean {
  if (name === "" || name.split("/").includes("..")) return false;
  try {
    return lv.exclude.ignores(name);
  } catch {
    // `ignore` rejects some odd relative forms; such a name is simply not excluded.
    return false;
  }
}

/**
 * Items of a container file on disk (zip, jar, tar, tar.gz, gzip, Docker image tarball,
 * notebook), whose kind the caller sniffed from its first bytes. Limits are per file on
 * disk: nested archives share its budget. Never throws: every failure becomes a skipped
 * item, and what was read before it has already been yielded.
 *
 * @example
 *   for await (const item of containerFileItems("/abs/app.jar", "app.jar", "zip", ctx)) { ... }
 */
export async function* containerFileItems(
  /** A Buffer for a path that is not valid UTF-8 (file-source.ts). */
  abs: string | Buffer,
  path: string,
  kind: ContainerKind,
  ctx: ContainerContext,
): AsyncGenerator<SourceItem> {
  const lv: Level = {
    ctx,
    budget: new ArchiveBudget(ctx.archives),
    depth: 1,
    exclude: ignore().add([...ALWAYS_SKIPPED, ...ctx.exclude]),
  };
  const open = (): ByteReader => new ByteReader(createReadStream(abs, { highWaterMark: 256 * 1024 }));
  const whole = async (): Promise<Buffer | undefined> => {
    const reader = open();
    try {
      return await reader.readAll(ctx.maxFileSize);
    } finally {
      await reader.close();
    }
  };
  try {
    if (kind === "notebook") {
      const buf = await whole();
      if (buf === undefined) yield skipped(path, `larger than scan.maxFileSize (${ctx.maxFileSize} bytes)`);
      else yield* notebookItems(path, buf, ctx);
      return;
    }
    if (kind === "zip") {
      yield* zipItems(
        lv,
        path,
        // yauzl hands the path to fs.open, which takes raw bytes too.
        () =>
          yauzl.openPromise(abs as string, {
            autoClose: false,
            strictFileNames: false,
            validateEntrySizes: true,
          }),
        whole,
      );
      return;
    }
    {
      // `docker save` output, possibly gzipped: reopened for the image's two passes.
      const openTar =
        kind === "tar"
          ? open
          : (): ByteReader =>
              new ByteReader(
                (async function* () {
                  const file = open();
                  try {
                    yield* gunzip(file, lv.budget, path);
                  } finally {
                    await file.close();
                  }
                })(),
              );
      if (await isDockerCandidate(openTar())) {
        yield* dockerImageItems(lv, path, openTar, { tarItems, entryItems });
        return;
      }
    }
    const reader = open();
    try {
      yield* kind === "gzip" ? gzipItems(lv, path, baseName(path), reader) : tarItems(lv, path, reader);
    } finally {
      await reader.close();
    }
  } catch (e) {
    yield skipped(path, stopReason(e));
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Items of one document read from `reader` at level `lv`: a nested archive is opened (up to
 * maxDepth), a notebook parsed, anything else sniffed for binary content and chunked as a
 * file is. The caller drains or closes `reader` afterwards.
 *
 * @example
 *   yield* entryItems(level, "a.tgz!lib/x.zip", "lib/x.zip", reader, header.size);
 */
export async function* entryItems(
  lv: Level,
  path: string,
  name: string,
  reader: ByteReader,
  declaredSize: number | undefined,
): AsyncGenerator<SourceItem> {
  const head = await reader.peek(HEAD_BYTES);
  const kind = sniffContainer(head, name);
  if (kind === "zip" || kind === "gzip" || kind === "tar") {
    if (!lv.ctx.archives.enabled) {
      yield skipped(path, "archive: scan.archives.enabled is false");
      return;
    }
    if (lv.depth + 1 > lv.ctx.archives.maxDepth) {
      yield skipped(path, `nested archive deeper than scan.archives.maxDepth (${lv.ctx.archives.maxDepth})`);
      return;
    }
    const child: Level = { ...lv, depth: lv.depth + 1 };
    if (kind === "zip") {
      // yauzl needs random access (the central directory is at the end): hold it in memory.
      const buf = await reader.readAll(lv.ctx.maxFileSize);
      if (buf === undefined) {
        yield skipped(path, `nested zip larger than scan.maxFileSize (${lv.ctx.maxFileSize} bytes)`);
        return;
      }
      yield* zipItems(
        child,
        path,
        () => yauzl.fromBufferPromise(buf, { strictFileNames: false, validateEntrySizes: true }),
        () => Promise.resolve(buf),
      );
    } else if (kind === "gzip") yield* gzipItems(child, path, name, reader);
    else if (declaredSize !== undefined && declaredSize <= lv.ctx.maxFileSize && looksLikeDockerSave(head)) {
      // An image tarball inside an archive: held in memory for the image's two passes.
      const buf = await reader.readAll(declaredSize);
      if (buf === undefined) return;
      yield* dockerImageItems(child, path, () => new ByteReader(Readable.from([buf])), {
        tarItems,
        entryItems,
      });
    } else yield* tarItems(child, path, reader);
    return;
  }
  if (kind === "notebook") {
    if (declaredSize !== undefined) lv.budget.bytes(declaredSize, path);
    const buf = await reader.readAll(lv.ctx.maxFileSize);
    if (buf === undefined) {
      yield skipped(path, `larger than scan.maxFileSize (${lv.ctx.maxFileSize} bytes)`);
      return;
    }
    if (declaredSize === undefined) lv.budget.bytes(buf.length, path);
    yield* notebookItems(path, buf, lv.ctx);
    return;
  }
  yield* leafItems(lv, path, reader, head, declaredSize);
}

/** Reads blocks until at least `size` bytes or the end; undefined at the end. */
async function nextBlock(reader: ByteReader, size: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const b = await reader.read();
    if (b === undefined) break;
    parts.push(b);
    n += b.length;
  }
  return n === 0 ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** A plain document inside an archive: the same sniff, decoding and chunking as a file. */
async function* leafItems(
  lv: Level,
  path: string,
  reader: ByteReader,
  head: Buffer,
  declaredSize: number | undefined,
): AsyncGenerator<SourceItem> {
  const { maxFileSize, chunkSize, overlap } = lv.ctx;
  if (declaredSize !== undefined) {
    lv.budget.bytes(declaredSize, path);
    if (declaredSize > maxFileSize) {
      yield skipped(path, `larger than scan.maxFileSize (${declaredSize} > ${maxFileSize} bytes)`);
      return;
    }
  }
  const encoding = sniffEncoding(head);
  if (encoding === "binary") {
    const format = unsupportedArchive(head);
    yield skipped(path, format === undefined ? "binary content" : `${format} archive: not supported`);
    return;
  }
  let read = 0;
  const count = (b: Buffer): void => {
    read += b.length;
    if (declaredSize === undefined) lv.budget.bytes(b.length, path);
  };
  let block = await nextBlock(reader, chunkSize);
  if (block === undefined) return;
  count(block);
  if ((await reader.peek(1)).length === 0) {
    const { text, latin1 } = decodeText(block, encoding);
    if (latin1) yield skipped(path, "invalid UTF-8: scanned as Latin-1");
    const chunk: TextChunk = {
      path,
      text,
      line: 1,
      column: 1,
      ownedTo: text.length,
      bytes: block.length,
      first: true,
    };
    yield { kind: "chunk", chunk };
    return;
  }
  const chunker = new TextChunker(path, overlap, encoding);
  while (block !== undefined) {
    yield { kind: "chunk", chunk: chunker.push(block) };
    if (read >= maxFileSize) {
      yield skipped(path, `rest skipped past scan.maxFileSize (${maxFileSize} bytes)`);
      break;
    }
    block = await nextBlock(reader, chunkSize);
    if (block !== undefined) count(block);
  }
  const last = chunker.end();
  if (last !== undefined) yield { kind: "chunk", chunk: last };
}

/**
 * Decompresses a gzip stream lazily, checking the ratio of bytes out to bytes in as it goes.
 * Stopping early leaves `input` unread for its owner to drain.
 */
async function* gunzip(input: ByteReader, budget: ArchiveBudget, at: string): AsyncGenerator<Buffer> {
  let fed = 0;
  const feed = async function* (): AsyncGenerator<Buffer> {
    for await (const b of input.rest()) {
      fed += b.length;
      yield b;
    }
  };
  const src = Readable.from(feed(), { objectMode: true, highWaterMark: 1 });
  const gz = createGunzip({ chunkSize: 64 * 1024 });
  src.on("error", (e) => gz.destroy(e));
  src.pipe(gz);
  let out = 0;
  try {
    for await (const b of gz as AsyncIterable<Buffer>) {
      out += b.length;
      budget.ratio(out, fed, at);
      yield b;
    }
  } finally {
    src.unpipe(gz);
    src.destroy();
    gz.destroy();
  }
}

/** A gzip stream: a tar inside is one archive (tar.gz, tgz); otherwise one compressed document. */
async function* gzipItems(
  lv: Level,
  path: string,
  name: string,
  input: ByteReader,
): AsyncGenerator<SourceItem> {
  const inner = new ByteReader(gunzip(input, lv.budget, path));
  try {
    const head = await inner.peek(HEAD_BYTES);
    if (looksLikeTar(head)) {
      yield* tarItems(lv, path, inner);
    } else {
      // gzip keeps no path: the document is the file's own name less `.gz`.
      const base = baseName(name);
      const innerName = /\.tgz$/i.test(base) ? base.replace(/\.tgz$/i, ".tar") : base.replace(/\.gz$/i, "");
      yield* entryItems(lv, `${path}!${innerName}`, innerName, inner, undefined);
    }
  } catch (e) {
    if (!ownError(e, input)) throw e;
    yield skipped(path, stopReason(e));
  } finally {
    await inner.close();
  }
}

/** Writes `input` into the tar extractor with backpressure, until the end or `stopped()`. */
async function feedTar(extract: tarStream.Extract, input: ByteReader, stopped: () => boolean): Promise<void> {
  const waitDrain = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        extract.off("drain", done);
        extract.off("close", done);
        resolve();
      };
      extract.on("drain", done);
      extract.on("close", done);
    });
  try {
    for (let b = await input.read(); b !== undefined; b = await input.read()) {
      if (stopped() || extract.destroyed) return;
      if (!extract.write(b)) await waitDrain();
    }
    if (!stopped() && !extract.destroyed) extract.end(undefined);
  } catch (e) {
    extract.destroy(e as Error);
  }
}

/**
 * A tar stream, entry by entry, in constant memory: each entry is streamed to its handler
 * and then drained (a tar entry must be consumed before the next one arrives). `visit`, when
 * given, replaces the default handling of each entry (Docker layers use it).
 *
 * @example
 *   yield* tarItems(level, "release.tar", new ByteReader(createReadStream(file)));
 */
export async function* tarItems(
  lv: Level,
  path: string,
  input: ByteReader,
  visit?: (name: string, reader: ByteReader, size: number) => AsyncGenerator<SourceItem>,
): AsyncGenerator<SourceItem> {
  // Pre-POSIX tars have no `ustar` magic; looksLikeTar already checked the header checksum.
  const extract = tarStream.extract({ allowUnknownFormat: true } as Parameters<typeof tarStream.extract>[0]);
  let stop = false;
  const feeding = feedTar(extract, input, () => stop);
  const entries = extract[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await entries.next();
      if (r.done === true) break;
      const entry = r.value;
      const reader = new ByteReader(entry as AsyncIterable<Buffer>);
      try {
        const h = entry.header;
        const name = cleanName(h.name);
        const at = `${path}!${name}`;
        lv.budget.entry(at);
        // Whiteouts (`.wh.*`) mark deletions in image layers: empty, never worth a look.
        const whiteout = name.slice(name.lastIndexOf("/") + 1).startsWith(".wh.");
        if ((h.type === "file" || h.type === "contiguous-file") && !whiteout && !isExcluded(lv, name)) {
          yield* visit !== undefined ? visit(name, reader, h.size) : entryItems(lv, at, name, reader, h.size);
        }
      } finally {
        await reader.drain();
      }
    }
  } catch (e) {
    if (!ownError(e, input)) throw e;
    yield skipped(path, stopReason(e));
  } finally {
    stop = true;
    extract.destroy();
    await feeding;
  }
}

/**
 * A zip (or jar) through yauzl, which reads the central directory and checks each entry's
 * size as it inflates. A corrupt entry is skipped and the next one read; a ratio over the
 * limit ends this zip; a broken central directory ends it with a skipped item.
 */
async function* zipItems(
  lv: Level,
  path: string,
  open: () => Promise<yauzl.ZipFile>,
  whole: () => Promise<Buffer | undefined>,
): AsyncGenerator<SourceItem> {
  let zip: yauzl.ZipFile | undefined;
  try {
    try {
      zip = await open();
    } catch (e) {
      yield* salvagedItems(lv, path, await whole(), e);
      return;
    }
    for await (const entry of zip.eachEntry()) {
      const name = cleanName(entry.fileName);
      const at = `${path}!${name}`;
      lv.budget.entry(at);
      if (entry.fileName.endsWith("/") || isExcluded(lv, name)) continue;
      lv.budget.ratio(entry.uncompressedSize, entry.compressedSize, at);
      let stream: Readable;
      try {
        stream = await zip.openReadStreamPromise(entry);
      } catch (e) {
        yield skipped(at, `unreadable zip entry (${message(e)})`);
        continue;
      }
      const reader = new ByteReader(stream);
      try {
        yield* entryItems(lv, at, name, reader, entry.uncompressedSize);
      } catch (e) {
        if (reader.error === undefined) throw e;
        yield skipped(at, `corrupt zip entry (${message(e)})`);
      } finally {
        stream.destroy();
      }
    }
  } catch (e) {
    if (!ownError(e, undefined)) throw e;
    yield skipped(path, stopReason(e));
  } finally {
    zip?.close();
  }
}

/**
 * A zip whose central directory cannot be read (a truncated download): the entries its local
 * headers still describe are scanned, then a skipped item says where and why it stopped.
 */
async function* salvagedItems(
  lv: Level,
  path: string,
  buf: Buffer | undefined,
  cause: unknown,
): AsyncGenerator<SourceItem> {
  if (buf === undefined) {
    yield skipped(path, stopReason(cause));
    return;
  }
  const walk = salvageZip(buf, lv.ctx.maxFileSize);
  let count = 0;
  for (let r = walk.next(); ; r = walk.next()) {
    if (r.done === true) {
      const how = count === 0 ? "" : `; ${count} entries recovered from local headers, then: ${r.value}`;
      yield skipped(
        path,
        `corrupt or truncated archive (${message(cause)}${how}): rest of the archive skipped`,
      );
      return;
    }
    count++;
    const e = r.value;
    const name = cleanName(e.name);
    const at = `${path}!${name}`;
    lv.budget.entry(at);
    if (e.name.endsWith("/") || isExcluded(lv, name)) continue;
    if (!Buffer.isBuffer(e.data)) {
      yield skipped(at, `unreadable zip entry (${e.data.error})`);
      continue;
    }
    lv.budget.ratio(e.data.length, e.compressedSize, at);
    const data = e.data;
    yield* entryItems(lv, at, name, new ByteReader(Readable.from([data])), data.length);
  }
}
