import type { SourceItem, TextChunk } from "../source.ts";
import { TextChunker } from "../text-chunker.ts";
import { decodeText, sniffEncoding } from "../text-decode.ts";
import { lineLocator, parsePositioned, type PositionedJson } from "./json-positions.ts";

/** Output MIME types worth scanning: text a person reads. Images and widgets are skipped. */
const TEXT_MIME = /^(text\/|application\/(json|javascript|x-python|xml)$)/;
// eslint-disable-next-line no-control-regex -- ANSI colour codes in tracebacks
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

interface Where {
  readonly line: number;
  readonly column: number;
}

function get(node: PositionedJson | undefined, key: string): PositionedJson | undefined {
  return node?.type === "object" ? node.entries.get(key) : undefined;
}

function chunkAt(path: string, text: string, at: Where): TextChunk {
  return { path, text, line: at.line, column: at.column, ownedTo: text.length, bytes: 0, first: false };
}

/**
 * Chunks for a notebook text field (a string, or the usual array of lines). When the array
 * has one element per JSON line, each ending in `\n` (how Jupyter writes notebooks), the
 * lines are joined into one chunk whose line numbers are those of the `.ipynb` file. Any
 * other layout yields one chunk per string, its newlines turned into spaces so every match
 * still reports the JSON line the string is on.
 */
function fieldChunks(
  path: string,
  node: PositionedJson | undefined,
  locate: (offset: number) => Where,
  clean: (s: string) => string,
): TextChunk[] {
  if (node === undefined) return [];
  const strings = node.type === "string" ? [node] : node.type === "array" ? node.items : [];
  const parts = strings.filter((s): s is Extract<PositionedJson, { type: "string" }> => s.type === "string");
  if (parts.length === 0) return [];
  const at = parts.map((p) => locate(p.start + 1));
  const standard = parts.every(
    (p, k) =>
      at[k]!.line === at[0]!.line + k &&
      p.value.indexOf("\n") === (k === parts.length - 1 && !p.value.endsWith("\n") ? -1 : p.value.length - 1),
  );
  if (standard) return [chunkAt(path, clean(parts.map((p) => p.value).join("")), at[0]!)];
  return parts.map((p, k) => chunkAt(path, clean(p.value).replace(/[\r\n]/g, " "), at[k]!));
}

/** The scannable chunks of one parsed notebook, or undefined when it is not a notebook. */
function notebookChunks(path: string, text: string): TextChunk[] | undefined {
  const root = parsePositioned(text);
  const cells = get(root, "cells");
  if (cells?.type !== "array") return undefined;
  const locate = lineLocator(text);
  const same = (s: string): string => s;
  const out: TextChunk[] = [];
  for (const cell of cells.items) {
    out.push(...fieldChunks(path, get(cell, "source"), locate, same));
    const outputs = get(cell, "outputs");
    if (outputs?.type !== "array") continue;
    for (const o of outputs.items) {
      out.push(...fieldChunks(path, get(o, "text"), locate, same));
      for (const key of ["ename", "evalue"]) out.push(...fieldChunks(path, get(o, key), locate, same));
      out.push(...fieldChunks(path, get(o, "traceback"), locate, (s) => s.replace(ANSI, "")));
      const data = get(o, "data");
      if (data?.type !== "object") continue;
      for (const [mime, value] of data.entries) {
        if (!TEXT_MIME.test(mime)) continue;
        if (value.type === "object") {
          // A JSON output is scanned as written: its slice keeps the file's lines and columns.
          out.push(chunkAt(path, text.slice(value.start, value.end), locate(value.start)));
        } else out.push(...fieldChunks(path, value, locate, same));
      }
    }
  }
  return out;
}

/**
 * A Jupyter notebook scanned as what it is: code and markdown cell sources, and text
 * outputs (stream text, `text/*` and JSON results, error name, value and traceback without
 * colour codes). Image outputs and attachments (base64) are not scanned.
 *
 * Locations: findings keep the notebook's own path (`nb.ipynb`, or `x.zip!nb.ipynb` inside
 * an archive) and the line and column inside the `.ipynb` JSON, so an editor opens the
 * right spot; a cell's lines map one to one onto the JSON lines Jupyter writes. Malformed
 * JSON, or JSON without `cells`, is scanned as plain text instead.
 *
 * @example
 *   for (const item of notebookItems("nb.ipynb", buf, { overlap, chunkSize })) { ... }
 */
export function* notebookItems(
  path: string,
  content: Buffer,
  opts: { readonly overlap: number; readonly chunkSize: number },
): Generator<SourceItem> {
  const encoding = sniffEncoding(content);
  if (encoding === "binary") {
    yield { kind: "skipped", skipped: { path, reason: "binary content" } };
    return;
  }
  const { text, latin1 } = decodeText(content, encoding);
  let chunks: TextChunk[] | undefined;
  let why = "not a notebook (no cells)";
  try {
    chunks = notebookChunks(path, text);
  } catch (e) {
    why = `malformed notebook JSON (${e instanceof Error ? e.message : "error"})`;
  }
  if (chunks !== undefined) {
    // The first chunk carries the file's size and marks it for file counts, even when empty.
    const all = chunks.length === 0 ? [chunkAt(path, "", { line: 1, column: 1 })] : chunks;
    for (const [k, c] of all.entries()) {
      yield { kind: "chunk", chunk: k === 0 ? { ...c, first: true, bytes: content.length } : c };
    }
    return;
  }
  yield { kind: "skipped", skipped: { path, reason: `${why}: scanned as plain text` } };
  if (latin1) yield { kind: "skipped", skipped: { path, reason: "invalid UTF-8: scanned as Latin-1" } };
  if (content.length <= opts.chunkSize) {
    yield {
      kind: "chunk",
      chunk: { ...chunkAt(path, text, { line: 1, column: 1 }), first: true, bytes: content.length },
    };
    return;
  }
  const chunker = new TextChunker(path, opts.overlap, latin1 ? "latin1" : "utf8");
  for (let off = 0; off < content.length; off += opts.chunkSize) {
    yield { kind: "chunk", chunk: chunker.push(content.subarray(off, off + opts.chunkSize)) };
  }
  const last = chunker.end();
  if (last !== undefined) yield { kind: "chunk", chunk: last };
}
